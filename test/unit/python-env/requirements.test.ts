import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { findMissing, parseDistFileName, type DistListing } from "../../../src/python-env/dist.js";
import { parseRequirement, readRequirements } from "../../../src/python-env/requirements.js";
import { compareVersions, normalizeName, parseSpecifiers, parseVersion, satisfies } from "../../../src/python-env/versions.js";

describe("names and versions", () => {
  it("normalises names per PEP 503", () => {
    expect(normalizeName("Flask_SQLAlchemy")).toBe("flask-sqlalchemy");
    expect(normalizeName("zope.interface")).toBe("zope-interface");
    expect(normalizeName("a-_.b")).toBe("a-b");
  });

  it("orders versions per PEP 440", () => {
    const sorted = ["1.0.post1", "1.0", "1.0rc1", "1.0a1", "1.0.dev1", "0.9", "1.0b2", "1!0.1", "1.0.1"];
    const ordered = [...sorted].sort((a, b) => compareVersions(parseVersion(a)!, parseVersion(b)!));
    expect(ordered).toEqual(["0.9", "1.0.dev1", "1.0a1", "1.0b2", "1.0rc1", "1.0", "1.0.post1", "1.0.1", "1!0.1"]);
    expect(compareVersions(parseVersion("1.0")!, parseVersion("1.0.0")!)).toBe(0);
    expect(parseVersion("not a version")).toBeNull();
  });

  it("matches specifiers, and answers null when unsure", () => {
    const spec = (text: string) => parseSpecifiers(text)!;
    expect(satisfies("3.1.0", spec("==3.1"))).toBe(true);
    expect(satisfies("3.0.3", spec("==3.1"))).toBe(false);
    expect(satisfies("2.31.0", spec(">=2,<3"))).toBe(true);
    expect(satisfies("3.0", spec(">=2,<3"))).toBe(false);
    expect(satisfies("1.4.7", spec("==1.4.*"))).toBe(true);
    expect(satisfies("1.5", spec("==1.4.*"))).toBe(false);
    expect(satisfies("2.2", spec("~=2.1"))).toBe(true);
    expect(satisfies("3.0", spec("~=2.1"))).toBe(false);
    expect(satisfies("1.0+local", spec("==1.0"))).toBe(true);
    expect(satisfies("weird", spec(">=1"))).toBeNull();
    expect(parseSpecifiers(">=1, bogus")).toBeNull();
  });

  it("reads wheel and sdist file names", () => {
    expect(parseDistFileName("Flask-3.1.0-py3-none-any.whl")).toEqual({ name: "Flask", version: "3.1.0", kind: "wheel" });
    expect(parseDistFileName("pkg-1.0-1build-cp311-cp311-linux_x86_64.whl")).toMatchObject({ name: "pkg", version: "1.0" });
    expect(parseDistFileName("python-dateutil-2.9.0.post0.tar.gz")).toEqual({ name: "python-dateutil", version: "2.9.0.post0", kind: "sdist" });
    expect(parseDistFileName("README.txt")).toBeNull();
  });
});

describe("requirements.txt", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "sarge-req-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("parses PEP 508 lines the way pip reads the file", async () => {
    await writeFile(
      join(dir, "requirements.txt"),
      [
        "# a comment",
        "",
        "Flask[async]>=3.0  # trailing comment",
        "requests (>=2,<3)",
        "pywin32; sys_platform == 'win32'",
        "gunicorn==22.0 \\",
        "    --hash=sha256:aaaa \\",
        "    --hash=sha256:bbbb",
        "--index-url https://example.invalid/simple",
        "--prefer-binary",
        "-r base.txt",
        "-c constraints.txt",
      ].join("\n"),
    );
    await writeFile(join(dir, "base.txt"), "click\n");
    await writeFile(join(dir, "constraints.txt"), "markupsafe<3\n");
    const parsed = await readRequirements(join(dir, "requirements.txt"), dir);
    expect(parsed.problems).toEqual([]);
    expect(parsed.files.map((f) => f.name)).toEqual(["requirements.txt", "base.txt", "constraints.txt"]);
    expect(parsed.requirements.map((r) => [r.text, r.key, r.where, r.constraint])).toEqual([
      ["Flask[async]>=3.0", "flask", "requirements.txt:3", false],
      ["requests (>=2,<3)", "requests", "requirements.txt:4", false],
      ["pywin32; sys_platform == 'win32'", "pywin32", "requirements.txt:5", false],
      ["gunicorn==22.0", "gunicorn", "requirements.txt:6", false],
      ["click", "click", "base.txt:1", false],
      ["markupsafe<3", "markupsafe", "constraints.txt:1", true],
    ]);
    expect(parsed.requirements[1]!.specifiers).toEqual([
      { op: ">=", version: "2" },
      { op: "<", version: "3" },
    ]);
    expect(parsed.requirements[2]!.marker).toBe("sys_platform == 'win32'");
  });

  it("refuses every line that would install from somewhere other than dist", async () => {
    await writeFile(
      join(dir, "requirements.txt"),
      [
        "-f /opt/wheels",
        "--find-links=https://example.invalid/",
        "-e .",
        "./vendor/thing-1.0-py3-none-any.whl",
        "thing @ https://example.invalid/thing.whl",
        "git+https://example.invalid/repo.git",
        "-r https://example.invalid/reqs.txt",
        "-r missing.txt",
        "fine==1.0",
      ].join("\n"),
    );
    const parsed = await readRequirements(join(dir, "requirements.txt"), dir);
    expect(parsed.problems.map((p) => p.split(":")[1])).toEqual(["1", "2", "3", "4", "5", "6", "7", "8"]);
    expect(parsed.problems[0]).toContain("-f is not allowed");
    expect(parsed.requirements.map((r) => r.text)).toEqual(["fine==1.0"]);
  });

  it("tells a name from a path or URL", () => {
    expect(parseRequirement("Django>=4; python_version >= '3.8'")).toMatchObject({ key: "django", marker: "python_version >= '3.8'" });
    expect(parseRequirement("pkg.whl")).toBe("reference");
    expect(parseRequirement("../lib")).toBe("reference");
    expect(parseRequirement("name @ file:///x")).toBe("reference");
  });
});

describe("checking requirements against dist", () => {
  const listing = (files: string[]): DistListing => {
    const packages: DistListing["packages"] = new Map();
    for (const file of files) {
      const parsed = parseDistFileName(file)!;
      const key = normalizeName(parsed.name);
      packages.set(key, [...(packages.get(key) ?? []), { file, version: parsed.version, kind: parsed.kind }]);
    }
    return { files: files.map((file) => ({ file, size: 1, mtimeMs: 1 })), packages };
  };

  it("names every missing requirement: absent names and versions dist lacks", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sarge-req-"));
    await writeFile(
      join(dir, "requirements.txt"),
      "flask==3.1\nrequests>=2\nmy_lib>=1\nitsdangerous\nclick>=8\npywin32; sys_platform=='win32'\n-c c.txt\n",
    );
    await writeFile(join(dir, "c.txt"), "absent-constraint==1\n");
    const parsed = await readRequirements(join(dir, "requirements.txt"), dir);
    const dist = listing(["Flask-3.0.3-py3-none-any.whl", "My.Lib-1.2.tar.gz", "itsdangerous-2.2.0-py3-none-any.whl", "click-7.1-py3-none-any.whl"]);
    const missing = findMissing(parsed.requirements, dist);
    expect(missing.map((m) => [m.requirement.text, m.available])).toEqual([
      ["flask==3.1", ["3.0.3"]],
      ["requests>=2", []],
      ["click>=8", ["7.1"]],
    ]);
    await rm(dir, { recursive: true, force: true });
  });
});

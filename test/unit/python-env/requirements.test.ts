import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
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
    vi.unstubAllEnvs();
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

  it("reads options the way pip does: every unambiguous prefix, = or a separate value, short options", async () => {
    const lines = [
      "--find-link http://127.0.0.1:9/",
      "--find=http://127.0.0.1:9/",
      "--fi http://127.0.0.1:9/",
      "-fhttp://127.0.0.1:9/",
      "--edit git+http://127.0.0.1:9/repo.git#egg=x",
      "--ed=git+http://127.0.0.1:9/repo.git#egg=x",
      "-egit+http://127.0.0.1:9/repo.git#egg=x",
      "--pre --find-links /opt/wheels",
      "--re x.txt",
      "--pre=yes",
      "-r",
      "--no-such-thing",
      "-x",
      "--hash 'unclosed",
      "fine==1.0 --find-links http://127.0.0.1:9/ --hash=sha256:aa",
    ];
    await writeFile(join(dir, "requirements.txt"), lines.join("\n"));
    const parsed = await readRequirements(join(dir, "requirements.txt"), dir);
    const fromDist = "do not come from dist; build a wheel with `sarge wheel` and require it by name";
    expect(parsed.problems).toEqual([
      "requirements.txt:1: --find-link (pip reads --find-links) is not allowed; sarge installs only from its dist folder",
      "requirements.txt:2: --find (pip reads --find-links) is not allowed; sarge installs only from its dist folder",
      "requirements.txt:3: --fi (pip reads --find-links) is not allowed; sarge installs only from its dist folder",
      "requirements.txt:4: -f is not allowed; sarge installs only from its dist folder",
      `requirements.txt:5: editable installs (--edit (pip reads --editable) git+http://127.0.0.1:9/repo.git#egg=x) ${fromDist}`,
      `requirements.txt:6: editable installs (--ed (pip reads --editable) git+http://127.0.0.1:9/repo.git#egg=x) ${fromDist}`,
      `requirements.txt:7: editable installs (-e git+http://127.0.0.1:9/repo.git#egg=x) ${fromDist}`,
      "requirements.txt:8: --find-links is not allowed; sarge installs only from its dist folder",
      "requirements.txt:9: pip cannot read this line: ambiguous option: --re (--require-hashes, --requirement?)",
      "requirements.txt:10: pip cannot read this line: --pre option does not take a value",
      "requirements.txt:11: pip cannot read this line: -r option requires 1 argument",
      "requirements.txt:12: pip cannot read this line: no such option: --no-such-thing",
      "requirements.txt:13: pip cannot read this line: no such option: -x",
      "requirements.txt:14: pip cannot read this line: Could not split options: no closing quotation",
    ]);
    // on a requirement line pip ignores --find-links: only the requirement counts
    expect(parsed.requirements.map((r) => r.text)).toEqual(["fine==1.0"]);
  });

  it("splits lines where Python does and joins them where pip does", async () => {
    await writeFile(join(dir, "requirements.txt"), "fine==1.0\r-f http://127.0.0.1:9/\nother # \\\n-f /swallowed/by/the/comment\n");
    const parsed = await readRequirements(join(dir, "requirements.txt"), dir);
    expect(parsed.problems).toEqual(["requirements.txt:2: -f is not allowed; sarge installs only from its dist folder"]);
    expect(parsed.requirements.map((r) => r.text)).toEqual(["fine==1.0", "other"]);
  });

  it("refuses an include outside the app folder without reading it, however it is written", async () => {
    const app = join(dir, "app");
    const secret = join(dir, "secret.txt");
    await mkdir(join(app, "sub"), { recursive: true });
    await writeFile(secret, "top-secret-line\n");
    await symlink(secret, join(app, "linked.txt"));
    await writeFile(join(app, "sub", "more.txt"), "-r ../../secret.txt\n");
    vi.stubEnv("SECRET_DIR", dir);
    await writeFile(
      join(app, "requirements.txt"),
      [`-r ${secret}`, "-c ../secret.txt", `--requirem=${secret}`, "--cons ../secret.txt", "-r linked.txt", "-r ${SECRET_DIR}/secret.txt", "-r sub/more.txt", "-r file:/etc/passwd", "-r inside.txt"].join(
        "\n",
      ),
    );
    await writeFile(join(app, "inside.txt"), "fine==1.0\n");
    const parsed = await readRequirements(join(app, "requirements.txt"), app);
    const outside = "outside the app folder; sarge reads requirement files only from inside it";
    expect(parsed.problems).toEqual([
      `requirements.txt:1: -r ${secret}: ${outside}`,
      `requirements.txt:2: -c ../secret.txt: ${outside}`,
      `requirements.txt:3: --requirem (pip reads --requirement) ${secret}: ${outside}`,
      `requirements.txt:4: --cons (pip reads --constraint) ../secret.txt: ${outside}`,
      `requirements.txt:5: -r linked.txt: ${outside}`,
      `requirements.txt:6: -r ${secret}: ${outside}`,
      `sub/more.txt:1: -r ../../secret.txt: ${outside}`,
      "requirements.txt:8: -r file:/etc/passwd is a URL; sarge reads only local files",
    ]);
    expect(parsed.problems.join("\n")).not.toContain("top-secret-line");
    expect(parsed.files.map((f) => f.name)).toEqual(["requirements.txt", "sub/more.txt", "inside.txt"]);
    expect(parsed.requirements.map((r) => r.text)).toEqual(["fine==1.0"]);
  });

  it("refuses a requirements.txt that links outside the app folder", async () => {
    const app = join(dir, "app");
    await mkdir(app);
    await writeFile(join(dir, "secret.txt"), "top-secret-line\n");
    await symlink(join(dir, "secret.txt"), join(app, "requirements.txt"));
    const parsed = await readRequirements(join(app, "requirements.txt"), app);
    expect(parsed.problems).toEqual(["requirements.txt: outside the app folder; sarge reads requirement files only from inside it"]);
    expect(parsed.files).toEqual([]);
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
      packages.set(key, [...(packages.get(key) ?? []), { file, path: `/dist/${file}`, version: parsed.version, kind: parsed.kind }]);
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

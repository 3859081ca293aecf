/**
 * unpackArchive on what real tools write: `git archive` (plain and gzip, with
 * the commit id in its pax global header), GNU tar (./ prefixes, a top-level
 * folder, long names, hard links), and a full disk.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, createReadStream, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, linkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unpackArchive } from "../../../src/archive/unpack.js";
import { buildTar, CAPS, listTree, refusalOf, removeSandbox, sandbox, type Sandbox, sandboxPerTest } from "./support.js";

const work = mkdtempSync(join(tmpdir(), "sarge-archive-real-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let box: Sandbox;
sandboxPerTest((fresh) => (box = fresh));

function git(repo: string, ...args: string[]): Buffer {
  return execFileSync("git", ["-C", repo, "-c", "user.name=Sarge Test", "-c", "user.email=test@example.invalid", ...args], {
    maxBuffer: 256 * 1024 * 1024,
  });
}

/** A small app repository with one commit: Procfile, code, an executable, a symlink, a nested folder. */
function makeRepo(name: string, initArgs: string[] = []): { repo: string; head: string } {
  const repo = join(work, name);
  mkdirSync(repo);
  git(repo, "init", "-q", ...initArgs);
  writeFileSync(join(repo, "Procfile"), "web: python app.py\n");
  writeFileSync(join(repo, "app.py"), "print('hello sarge')\n");
  mkdirSync(join(repo, "bin"));
  writeFileSync(join(repo, "bin", "release.sh"), "#!/bin/sh\necho release\n");
  chmodSync(join(repo, "bin", "release.sh"), 0o755);
  mkdirSync(join(repo, "static", "css"), { recursive: true });
  writeFileSync(join(repo, "static", "css", "main.css"), "body { color: red }\n");
  symlinkSync("css/main.css", join(repo, "static", "site.css"));
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "-m", "first");
  return { repo, head: git(repo, "rev-parse", "HEAD").toString().trim() };
}

const EXPECTED_TREE = ["Procfile", "app.py", "bin/", "bin/release.sh", "static/", "static/css/", "static/css/main.css", "static/site.css"];

function expectApp(dest: string): void {
  expect(listTree(dest)).toEqual(EXPECTED_TREE);
  expect(readFileSync(join(dest, "Procfile"), "utf8")).toBe("web: python app.py\n");
  expect(statSync(join(dest, "bin/release.sh")).mode & 0o100).toBe(0o100);
  expect(statSync(join(dest, "app.py")).mode & 0o111).toBe(0);
  expect(readlinkSync(join(dest, "static/site.css"))).toBe("css/main.css");
}

describe("git archive", () => {
  let app: { repo: string; head: string };
  beforeAll(() => {
    app = makeRepo("app");
  });

  it("unpacks `git archive HEAD` and returns the commit id from its pax global header", async () => {
    const tar = git(app.repo, "archive", "HEAD");
    expect(tar.subarray(0, 17).toString()).toBe("pax_global_header"); // what the feature relies on
    const result = await unpackArchive(Readable.from([tar]), box.dest, CAPS);
    expect(result.commit).toBe(app.head);
    expect(result.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(result.entries).toBe(EXPECTED_TREE.length);
    expectApp(box.dest);
  });

  it("unpacks `git archive --format=tar.gz HEAD` (gzip detected from the bytes)", async () => {
    const tgz = git(app.repo, "archive", "--format=tar.gz", "HEAD");
    expect([tgz[0], tgz[1]]).toEqual([0x1f, 0x8b]);
    const result = await unpackArchive(Readable.from([tgz]), box.dest, CAPS);
    expect(result.commit).toBe(app.head);
    expectApp(box.dest);
  });

  it("detects gzip by content, not by file name", async () => {
    const misnamed = join(work, "really-gzip.tar");
    writeFileSync(misnamed, git(app.repo, "archive", "--format=tar.gz", "HEAD"));
    const result = await unpackArchive(createReadStream(misnamed), box.dest, CAPS);
    expect(result.commit).toBe(app.head);
    expectApp(box.dest);
  });

  it("has no commit id for a tree (not a commit) archive", async () => {
    const tree = git(app.repo, "rev-parse", "HEAD^{tree}").toString().trim();
    const result = await unpackArchive(Readable.from([git(app.repo, "archive", tree)]), box.dest, CAPS);
    expect(result.commit).toBeNull();
    expectApp(box.dest);
  });

  it("keeps git archive's --prefix folder as it is", async () => {
    const result = await unpackArchive(Readable.from([git(app.repo, "archive", "--prefix=myapp/", "HEAD")]), box.dest, CAPS);
    expect(result.commit).toBe(app.head);
    expect(listTree(box.dest)).toEqual(["myapp/", ...EXPECTED_TREE.map((path) => `myapp/${path}`)]);
  });

  it("reads a SHA-256 repository's 64-hex commit id", async () => {
    let sha256: { repo: string; head: string };
    try {
      sha256 = makeRepo("sha256", ["--object-format=sha256"]);
    } catch {
      return; // this git cannot make SHA-256 repositories
    }
    const result = await unpackArchive(Readable.from([git(sha256.repo, "archive", "HEAD")]), box.dest, CAPS);
    expect(result.commit).toBe(sha256.head);
    expect(result.commit).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("GNU tar", () => {
  let source: string;
  beforeAll(() => {
    source = join(work, "tree");
    mkdirSync(join(source, "app", "lib"), { recursive: true });
    writeFileSync(join(source, "app", "Procfile"), "web: ./run\n");
    writeFileSync(join(source, "app", "run"), "#!/bin/sh\n");
    chmodSync(join(source, "app", "run"), 0o755);
    writeFileSync(join(source, "app", "lib", "data.bin"), randomBytes(600_000)); // bigger than one batch piece
    linkSync(join(source, "app", "run"), join(source, "app", "run-again"));
    symlinkSync("lib/data.bin", join(source, "app", "data"));
    const longDir = join(source, "app", "a".repeat(60), "b".repeat(60));
    mkdirSync(longDir, { recursive: true });
    writeFileSync(join(longDir, "c".repeat(90) + ".txt"), "long\n");
  });

  const longName = `app/${"a".repeat(60)}/${"b".repeat(60)}/${"c".repeat(90)}.txt`;

  it("keeps a single top-level folder and ./ prefixes as they are", async () => {
    const tar = join(work, "dot.tar");
    execFileSync("tar", ["-C", source, "-cf", tar, "."]);
    const result = await unpackArchive(createReadStream(tar), box.dest, CAPS);
    expect(result.commit).toBeNull();
    const tree = listTree(box.dest);
    expect(tree).toContain("app/Procfile");
    expect(tree).toContain(longName);
    expect(statSync(join(box.dest, "app/run")).mode & 0o100).toBe(0o100);
    expect(statSync(join(box.dest, "app/run-again")).ino).toBe(statSync(join(box.dest, "app/run")).ino);
    expect(lstatSync(join(box.dest, "app/data")).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(box.dest, "app/lib/data.bin")).equals(readFileSync(join(source, "app/lib/data.bin")))).toBe(true);
  });

  it("unpacks tar -cz, and pax format with long names", async () => {
    for (const [file, args] of [
      ["gnu.tgz", ["-czf"]],
      ["pax.tar", ["--format=pax", "-cf"]],
    ] as const) {
      const target = sandbox();
      try {
        const tar = join(work, file);
        execFileSync("tar", ["-C", source, ...args, tar, "app"]);
        await unpackArchive(createReadStream(tar), target.dest, CAPS);
        expect(readFileSync(join(target.dest, longName), "utf8")).toBe("long\n");
        expect(listTree(target.dest)).toEqual(listTree(source));
      } finally {
        removeSandbox(target);
      }
    }
  });

  it("unpacks what `tar -xf` unpacks, byte for byte", async () => {
    const tar = join(work, "compare.tar");
    execFileSync("tar", ["-C", source, "-cf", tar, "app"]);
    const byTar = mkdtempSync(join(work, "by-tar-"));
    execFileSync("tar", ["-C", byTar, "-xf", tar]);
    await unpackArchive(createReadStream(tar), box.dest, CAPS);
    expect(listTree(box.dest)).toEqual(listTree(byTar));
    for (const path of listTree(byTar)) {
      const ours = lstatSync(join(box.dest, path));
      if (ours.isFile()) expect(readFileSync(join(box.dest, path)).equals(readFileSync(join(byTar, path)))).toBe(true);
      if (ours.isFile()) expect(ours.mtime.getTime()).toBe(lstatSync(join(byTar, path)).mtime.getTime());
    }
  });
});

describe("a full disk", () => {
  let mountPoint: string | null = null;
  beforeAll(() => {
    const dir = join(work, "small-fs");
    mkdirSync(dir);
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir], { stdio: "ignore" });
      mountPoint = dir;
    } catch {
      mountPoint = null; // not root, or no mount in this environment: the test below is skipped
    }
  });
  afterAll(() => {
    if (mountPoint) execFileSync("umount", [mountPoint]);
  });

  it("stops with a clear message when a write fails with ENOSPC", async (context) => {
    if (!mountPoint) context.skip();
    const dest = join(mountPoint!, "deploy");
    mkdirSync(dest);
    const tar = await buildTar([
      { name: "Procfile", content: "web: x\n" },
      { name: "big.bin", content: randomBytes(3 * 1024 * 1024) },
    ]);
    const error = await refusalOf(unpackArchive(Readable.from([tar]), dest, { ...CAPS, minFreeBytes: 0 }));
    expect(error.message).toBe(`no space left on the file system holding ${dest} while writing entry "big.bin"`);
  });
});

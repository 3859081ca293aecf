/**
 * unpackArchive against hostile and broken input (docs/security.md, "A hostile archive").
 * Every refusal asserts the exact message, that it is an ArchiveError, and that
 * nothing was written outside the deploy folder.
 */
import { createReadStream, existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { SargeError } from "../../../src/util/errors.js";
import { ArchiveError, unpackArchive } from "../../../src/archive/unpack.js";
import { buildTar, CAPS, currentUmask, gzip, listTree, neverEnding, rawHeader, refusal, refusalOf, removeSandbox, sandbox, type Sandbox, sandboxPerTest, unpackBytes } from "./support.js";
import { waitFor } from "../../support/wait.js";

let box: Sandbox;
sandboxPerTest((fresh) => (box = fresh));

const procfile = { name: "Procfile", content: "web: python app.py\n" };

describe("entries that would land outside the deploy folder", () => {
  it("refuses a traversal entry", async () => {
    const error = await refusal(await buildTar([procfile, { name: "../etc/passwd", content: "root::0:0\n" }]), box);
    expect(error).toBeInstanceOf(ArchiveError);
    expect(error).toBeInstanceOf(SargeError);
    expect(error.message).toBe('archive entry "../etc/passwd" would land outside the deploy folder');
    expect(existsSync(join(box.root, "etc"))).toBe(false);
  });

  it("refuses `..` that climbs out after going down, and `..` that stays inside (GNU tar skips those)", async () => {
    const error = await refusal(await buildTar([{ name: "a/b/../../../x", content: "x" }]), box);
    expect(error.message).toBe('archive entry "a/b/../../../x" would land outside the deploy folder');
    const inside = await refusal(await buildTar([{ name: "a/b/../c.txt", content: "c" }]), box);
    expect(inside.message).toBe('archive entry "a/b/../c.txt" has a ".." component: sarge refuses such names, as GNU tar skips them (git archive never writes one)');
  });

  it("refuses an absolute path", async () => {
    const target = `/tmp/sarge-archive-test-absolute-${process.pid}.txt`;
    const error = await refusal(await buildTar([procfile, { name: target, content: "x" }]), box);
    expect(error.message).toBe(`archive entry "${target}" has an absolute path and would land outside the deploy folder`);
    expect(existsSync(target)).toBe(false);
  });

  it("refuses a symlink whose relative target escapes", async () => {
    const error = await refusal(await buildTar([procfile, { name: "sub/link", type: "symlink", linkname: "../../outside" }]), box);
    expect(error.message).toBe('archive entry "sub/link" is a symbolic link to "../../outside", which points outside the deploy folder');
  });

  it("refuses a symlink with an absolute target", async () => {
    const error = await refusal(await buildTar([{ name: "etc", type: "symlink", linkname: "/etc" }]), box);
    expect(error.message).toBe(
      'archive entry "etc" is a symbolic link to the absolute path "/etc", outside the deploy folder; links must be relative',
    );
  });

  it("refuses a symlink that escapes through another link of the archive", async () => {
    // d/up -> .. is the deploy folder itself; esc -> d/up/.. is then its parent.
    const error = await refusal(
      await buildTar([
        { name: "d", type: "directory" },
        { name: "d/up", type: "symlink", linkname: ".." },
        { name: "esc", type: "symlink", linkname: "d/up/.." },
      ]),
      box,
    );
    expect(error.message).toBe('archive entry "esc" is a symbolic link to "d/up/..", which points outside the deploy folder');
  });

  it("refuses a symlink made harmless-looking first and turned outward by a later link", async () => {
    // When "q" arrives, d/p does not exist and d/p/.. is just d. Then d/p becomes a link to "..".
    const error = await refusal(
      await buildTar([
        { name: "d", type: "directory" },
        { name: "q", type: "symlink", linkname: "d/p/.." },
        { name: "d/p", type: "symlink", linkname: ".." },
      ]),
      box,
    );
    expect(error.message).toBe('archive entry "q" is a symbolic link to "d/p/..", which points outside the deploy folder');
  });

  it("refuses a symlink loop", async () => {
    const error = await refusal(
      await buildTar([
        { name: "a", type: "symlink", linkname: "b" },
        { name: "b", type: "symlink", linkname: "a" },
      ]),
      box,
    );
    expect(error.message).toBe('archive entry "b" is a symbolic link to "a" in a loop or a chain of more than 40 links');
  });

  it("refuses writing through a symlink made by an earlier entry (symlink-then-write)", async () => {
    // The link itself points inside, so it is allowed; a file written through it is not.
    const error = await refusal(
      await buildTar([
        { name: "real", type: "directory" },
        { name: "ln", type: "symlink", linkname: "real" },
        { name: "ln/evil.txt", content: "x" },
      ]),
      box,
    );
    expect(error.message).toBe(
      'archive entry "ln/evil.txt" goes through "ln", a symbolic link made by an earlier entry; unpacking never writes through links',
    );
    expect(existsSync(join(box.dest, "real/evil.txt"))).toBe(false);
  });

  it("refuses `..` after a symlink (the kernel would resolve it from the link's target)", async () => {
    const error = await refusal(
      await buildTar([
        { name: "deep/er", type: "directory" },
        { name: "ln", type: "symlink", linkname: "deep/er" },
        { name: "ln/../x.txt", content: "x" },
      ]),
      box,
    );
    expect(error.message).toBe(
      'archive entry "ln/../x.txt" goes through "ln", a symbolic link made by an earlier entry; unpacking never writes through links',
    );
  });

  it("replaces a symlink by a later file of the same name without writing through it", async () => {
    await unpackBytes(
      await buildTar([
        { name: "target.txt", content: "original" },
        { name: "x", type: "symlink", linkname: "target.txt" },
        { name: "x", content: "replacement" },
      ]),
      box,
    );
    expect(lstatSync(join(box.dest, "x")).isFile()).toBe(true);
    expect(readFileSync(join(box.dest, "x"), "utf8")).toBe("replacement");
    expect(readFileSync(join(box.dest, "target.txt"), "utf8")).toBe("original");
  });

  it("keeps symlinks that stay inside", async () => {
    await unpackBytes(
      await buildTar([
        procfile,
        { name: "static/css", type: "directory" },
        { name: "static/site.css", type: "symlink", linkname: "css/main.css" },
        { name: "current", type: "symlink", linkname: "static/../static" },
        { name: ".venv", type: "symlink", linkname: "does-not-exist-yet" },
      ]),
      box,
    );
    expect(readlinkSync(join(box.dest, "static/site.css"))).toBe("css/main.css");
    expect(readlinkSync(join(box.dest, "current"))).toBe("static/../static");
    expect(readlinkSync(join(box.dest, ".venv"))).toBe("does-not-exist-yet");
  });
});

describe("hard links", () => {
  it("refuses a hard link to an absolute path", async () => {
    const error = await refusal(await buildTar([procfile, { name: "hard", type: "link", linkname: "/etc/passwd" }]), box);
    expect(error.message).toBe('archive entry "hard" is a hard link to "/etc/passwd", outside the deploy folder');
  });

  it("refuses a hard link that climbs out", async () => {
    const error = await refusal(await buildTar([{ name: "hard", type: "link", linkname: "../outside.txt" }]), box);
    expect(error.message).toBe('archive entry "hard" is a hard link to "../outside.txt", outside the deploy folder');
  });

  it("refuses a hard link to a file that is not earlier in the archive", async () => {
    const error = await refusal(
      await buildTar([
        { name: "hard", type: "link", linkname: "later.txt" },
        { name: "later.txt", content: "x" },
      ]),
      box,
    );
    expect(error.message).toBe('archive entry "hard" is a hard link to "later.txt", which is not an earlier regular file in the archive');
  });

  it("refuses a hard link to a symlink or a folder", async () => {
    const toLink = await refusal(
      await buildTar([
        { name: "s", type: "symlink", linkname: "Procfile" },
        { name: "hard", type: "link", linkname: "s" },
      ]),
      box,
    );
    expect(toLink.message).toBe('archive entry "hard" is a hard link to "s", which is not an earlier regular file in the archive');
  });

  it("makes a hard link to an earlier file (same inode)", async () => {
    await unpackBytes(
      await buildTar([
        { name: "bin/tool", content: "#!/bin/sh\n", mode: 0o755 },
        { name: "bin/alias", type: "link", linkname: "bin/tool" },
      ]),
      box,
    );
    expect(statSync(join(box.dest, "bin/alias")).ino).toBe(statSync(join(box.dest, "bin/tool")).ino);
  });
});

describe("special files", () => {
  it("refuses a character device", async () => {
    const error = await refusal(await buildTar([procfile, { name: "dev/null", type: "character-device", devmajor: 1, devminor: 3 }]), box);
    expect(error.message).toBe('archive entry "dev/null" is a character device; device files are not allowed in a deployment');
    expect(existsSync(join(box.dest, "dev/null"))).toBe(false);
  });

  it("refuses a block device", async () => {
    const error = await refusal(await buildTar([{ name: "sda", type: "block-device", devmajor: 8, devminor: 0 }]), box);
    expect(error.message).toBe('archive entry "sda" is a block device; device files are not allowed in a deployment');
  });

  it("refuses a fifo", async () => {
    const error = await refusal(await buildTar([{ name: "pipe", type: "fifo" }]), box);
    expect(error.message).toBe('archive entry "pipe" is a named pipe (fifo); fifos are not allowed in a deployment');
    expect(existsSync(join(box.dest, "pipe"))).toBe(false);
  });

  it("shows a hostile name escaped, not raw (no terminal escapes in messages)", async () => {
    const error = await refusal(await buildTar([{ name: "../\u001b[31mred", content: "x" }]), box);
    expect(error.message).toBe('archive entry "../\\u001b[31mred" would land outside the deploy folder');
  });
});

describe("modes", () => {
  it("drops setuid, setgid and sticky bits and keeps the executable bits", async () => {
    const umask = currentUmask(box.root);
    await unpackBytes(
      await buildTar([
        { name: "bin", type: "directory", mode: 0o3775 },
        { name: "bin/suid", content: "#!/bin/sh\n", mode: 0o4755 },
        { name: "bin/sgid", content: "#!/bin/sh\n", mode: 0o2750 },
        { name: "bin/run", content: "#!/bin/sh\n", mode: 0o755 },
        { name: "tmp", type: "directory", mode: 0o1777 },
        { name: "readonly.txt", content: "r", mode: 0o444 },
        { name: "secret.txt", content: "s", mode: 0o600 },
      ]),
      box,
    );
    const mode = (path: string): number => statSync(join(box.dest, path)).mode & 0o7777;
    expect(mode("bin/suid")).toBe(0o755 & ~umask);
    expect(mode("bin/sgid")).toBe(0o750 & ~umask);
    expect(mode("bin/run") & 0o111).toBe(0o111 & ~umask);
    expect(mode("readonly.txt")).toBe(0o444 & ~umask);
    expect(mode("secret.txt")).toBe(0o600);
    // Folders: 0755-ish, never setgid/sticky, never writable by others, always rwx for the owner.
    expect(mode("bin")).toBe(0o755 & ~umask);
    expect(mode("tmp")).toBe(0o755 & ~umask);
  });

  it("writes the app's .env owner-only from its first byte, whatever its mode in the archive", async () => {
    await unpackBytes(await buildTar([{ name: ".env", content: "TOKEN=secret\n", mode: 0o644 }, { name: "sub/.env", content: "x", mode: 0o644 }]), box);
    expect((statSync(join(box.dest, ".env")).mode & 0o777).toString(8)).toBe("600");
    expect((statSync(join(box.dest, "sub/.env")).mode & 0o777).toString(8)).toBe((0o644 & ~currentUmask(box.root)).toString(8));
  });

  it("keeps file modification times", async () => {
    const mtime = new Date("2021-03-04T05:06:07Z");
    await unpackBytes(await buildTar([{ name: "app.py", content: "print(1)\n", mtime }]), box);
    expect(statSync(join(box.dest, "app.py")).mtime.getTime()).toBe(mtime.getTime());
  });
});

describe("broken input", () => {
  it("refuses empty input", async () => {
    const error = await refusalOf(unpackArchive(Readable.from([]), box.dest, CAPS));
    expect(error.message).toBe("archive is empty: nothing was read from the input");
  });

  it("names the file an empty archive came from", async () => {
    const empty = join(box.dest, "..", "deploy-empty.tar");
    writeFileSync(empty, "");
    try {
      const error = await refusalOf(unpackArchive(createReadStream(empty), box.dest, CAPS));
      expect(error.message).toBe(`archive is empty: nothing was read from ${empty}`);
    } finally {
      // keep the sandbox check honest: only "deploy" may remain next to dest
      (await import("node:fs")).rmSync(empty);
    }
  });

  it("refuses gzip data that decompresses to nothing", async () => {
    const error = await refusal(gzip(Buffer.alloc(0)), box);
    expect(error.message).toBe("archive is empty: the gzip data read from the input holds no bytes");
  });

  it("refuses random bytes as not a tar", async () => {
    const bytes = randomBytes(4096);
    bytes[0] = 0; // not by chance a gzip/zip/xz signature
    const error = await refusal(bytes, box);
    expect(error.message).toBe("input is not a tar archive: the first 512 bytes are not a tar header");
  });

  it("refuses a text file as not a tar, quoting its start", async () => {
    const error = await refusal(Buffer.from("this is not an archive\n".repeat(50)), box);
    expect(error.message).toBe(
      'input is not a tar archive: the first 512 bytes are not a tar header; it looks like text, starting with "this is not an archive"',
    );
  });

  it("refuses a short text file as not a tar", async () => {
    const error = await refusal(Buffer.from("hello\n"), box);
    expect(error.message).toBe('input is not a tar archive: only 6 bytes, shorter than one tar header; it looks like text, starting with "hello"');
  });

  it("recognises other archive formats", async () => {
    const zip = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(1020)]);
    expect((await refusal(zip, box)).message).toBe(
      "input is not a tar archive: it is a zip file; sarge reads a plain or gzip-compressed tar (git archive HEAD, or tar -cz)",
    );
    const xz = Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), Buffer.alloc(1018)]);
    expect((await refusal(xz, box)).message).toBe(
      "input is not a tar archive: it is xz-compressed; sarge reads a plain or gzip-compressed tar (git archive HEAD, or tar -cz)",
    );
  });

  it("refuses gzip data that is not a tar", async () => {
    const error = await refusal(gzip(Buffer.from("just text, compressed\n".repeat(40))), box);
    expect(error.message).toBe(
      'the gzip data is not a tar archive: the first 512 bytes are not a tar header; it looks like text, starting with "just text, compressed"',
    );
  });

  it("refuses an archive cut in the middle of a file's data", async () => {
    const whole = await buildTar([procfile, { name: "big.bin", content: randomBytes(20_000) }]);
    const error = await refusal(whole.subarray(0, 512 + 512 + 512 + 5000), box);
    expect(error.message).toBe('archive is truncated: it ends inside entry "big.bin"');
  });

  it("refuses an archive cut in the middle of a large (streamed) file, leaving no file descriptor open", async () => {
    const whole = await buildTar([{ name: "big.bin", content: randomBytes(3 * 1024 * 1024) }]);
    const before = readdirSync("/proc/self/fd").length;
    // The first 2 MiB, then (once the writer thread has the file open) the end.
    const input = new Readable({ read() {} });
    input.push(whole.subarray(0, 2 * 1024 * 1024));
    const refused = refusalOf(unpackArchive(input, box.dest, CAPS));
    await waitFor(() => existsSync(join(box.dest, "big.bin")), "the writer to open big.bin");
    input.push(null);
    const error = await refused;
    expect(error.message).toBe('archive is truncated: it ends inside entry "big.bin"');
    expect(readdirSync("/proc/self/fd").length).toBe(before);
  });

  it("refuses an archive cut inside a header", async () => {
    const whole = await buildTar([procfile, { name: "app.py", content: "x" }]);
    const error = await refusal(whole.subarray(0, 1024 + 300), box);
    expect(error.message).toBe('archive is truncated: it ends inside the header after entry "Procfile"');
  });

  it("refuses an archive cut exactly between two entries (no end-of-archive marker)", async () => {
    const whole = await buildTar([procfile, { name: "app.py", content: "x" }]);
    const error = await refusal(whole.subarray(0, 1024), box);
    expect(error.message).toBe('archive is truncated: it ends after entry "Procfile" without the end-of-archive marker');
  });

  it("refuses an archive cut inside its first header", async () => {
    const whole = await buildTar([procfile]);
    const error = await refusal(whole.subarray(0, 300), box);
    expect(error.message).toBe("archive is truncated: only 300 bytes, it ends inside the first tar header");
  });

  it("refuses a cut-off gzip stream", async () => {
    const whole = gzip(await buildTar([procfile, { name: "big.bin", content: randomBytes(50_000) }]));
    const error = await refusal(whole.subarray(0, Math.floor(whole.length / 2)), box);
    expect(error.message).toBe('archive is truncated: the gzip data ends early, inside or after entry "big.bin"');
  });

  it("refuses corrupt gzip data", async () => {
    const whole = gzip(await buildTar([procfile, { name: "big.bin", content: randomBytes(50_000) }]));
    whole.fill(0x55, 20_000, 20_300); // inside big.bin's (stored) data: caught by gzip's own checks
    const error = await refusal(whole, box);
    expect(error.message).toMatch(/^archive is corrupt: the gzip data cannot be decompressed \(.+\)$/);
  });

  it("refuses a corrupt header after valid entries", async () => {
    const whole = await buildTar([procfile, { name: "app.py", content: "x" }]);
    whole.fill(0x41, 1024, 1024 + 100); // second header's name, checksum now wrong
    const error = await refusal(whole, box);
    expect(error.message).toBe('archive is corrupt: invalid tar header after entry "Procfile"');
  });

  it("refuses an entry type it does not know", async () => {
    const odd = Buffer.concat([rawHeader({ name: "volume", size: 0, typeflag: "V" }), Buffer.alloc(1024)]);
    const error = await refusal(odd, box);
    expect(error.message).toBe('archive entry "volume" has an unsupported entry type; only files, folders and links can be unpacked');
  });
});

describe("caps from etc/sarge.yaml", () => {
  it("stops at archive.max_entries", async () => {
    const tar = await buildTar(["a", "b", "c", "d"].map((name) => ({ name: `${name}.txt`, content: name })));
    const error = await refusal(tar, box, { maxEntries: 3 });
    expect(error.message).toBe('archive has more than 3 entries, the cap set by archive.max_entries; refused at entry "d.txt"');
    await unpackBytes(tar, sandboxAgain(), { maxEntries: 4 });
  });

  it("stops at archive.max_bytes before writing the entry that would pass it", async () => {
    const tar = await buildTar([
      { name: "a.bin", content: Buffer.alloc(60) },
      { name: "b.bin", content: Buffer.alloc(60) },
    ]);
    const error = await refusal(tar, box, { maxBytes: 100 });
    expect(error.message).toBe('archive unpacks to more than 100 bytes, the cap set by archive.max_bytes; refused at entry "b.bin" (60 bytes, 60 unpacked before it)');
    expect(existsSync(join(box.dest, "b.bin"))).toBe(false);
  });

  it("counts unpacked bytes, so a gzip bomb stops at the cap", async () => {
    const bomb = gzip(await buildTar([{ name: "zeros.bin", content: Buffer.alloc(8 * 1024 * 1024) }]));
    expect(bomb.length).toBeLessThan(64 * 1024);
    const error = await refusal(bomb, box, { maxBytes: 1024 * 1024 });
    expect(error.message).toBe(
      'archive unpacks to more than 1048576 bytes, the cap set by archive.max_bytes; refused at entry "zeros.bin" (8388608 bytes, 0 unpacked before it)',
    );
  });

  it("stops at archive.max_name_length for names", async () => {
    const error = await refusal(await buildTar([{ name: "a-very-long-name.txt", content: "x" }]), box, { maxNameLength: 10 });
    expect(error.message).toBe('archive entry "a-very-long-name.txt" has a name of 20 bytes, over the cap of 10 set by archive.max_name_length');
  });

  it("stops at archive.max_name_length for link targets", async () => {
    const error = await refusal(await buildTar([{ name: "l", type: "symlink", linkname: "x".repeat(40) }]), box, { maxNameLength: 32 });
    expect(error.message).toBe('archive entry "l" is a symbolic link whose target has 40 bytes, over the cap of 32 set by archive.max_name_length');
  });

  it("counts name length in UTF-8 bytes", async () => {
    const name = "é".repeat(6); // 12 bytes
    const error = await refusal(await buildTar([{ name, content: "x" }]), box, { maxNameLength: 11 });
    expect(error.message).toBe(`archive entry "${name}" has a name of 12 bytes, over the cap of 11 set by archive.max_name_length`);
  });
});

describe("the deploy folder", () => {
  it("refuses to unpack into a folder that is not empty", async () => {
    writeFileSync(join(box.dest, "leftover"), "x");
    const error = await refusalOf(unpackArchive(Readable.from([await buildTar([procfile])]), box.dest, CAPS));
    expect(error.message).toBe(`cannot unpack into ${box.dest}: the folder is not empty`);
  });

  it("refuses to start below the free-space floor", async () => {
    const input = Readable.from([await buildTar([procfile])]);
    const error = await refusalOf(unpackArchive(input, box.dest, { ...CAPS, minFreeBytes: Number.MAX_SAFE_INTEGER }));
    expect(error.message).toMatch(
      new RegExp(`^not enough free disk space to unpack: \\d+ MiB free on the file system holding ${box.dest}, at least \\d+ MiB needed$`),
    );
    expect(input.destroyed).toBe(true);
    expect(listTree(box.dest)).toEqual([]);
  });
});

describe("streams", () => {
  it("destroys an input that never ends once an entry is refused (no hang)", async () => {
    const input = neverEnding(await buildTar([procfile, { name: "../x", content: "x" }]));
    const error = await refusalOf(unpackArchive(input, box.dest, CAPS));
    expect(error.message).toBe('archive entry "../x" would land outside the deploy folder');
    expect(input.destroyed).toBe(true);
  });

  it("destroys the input when a cap stops a large file mid-stream", async () => {
    const tar = await buildTar([
      { name: "a.bin", content: randomBytes(3 * 1024 * 1024) },
      { name: "b.bin", content: randomBytes(3 * 1024 * 1024) },
    ]);
    const input = neverEnding(tar);
    const error = await refusalOf(unpackArchive(input, box.dest, { ...CAPS, maxBytes: 4 * 1024 * 1024 }));
    expect(error.message).toMatch(/refused at entry "b.bin"/);
    expect(input.destroyed).toBe(true);
  });

  it("reports the input's own read error", async () => {
    const input = new Readable({
      read() {
        this.destroy(Object.assign(new Error("Connection reset by peer"), { code: "ECONNRESET" }));
      },
    });
    const error = await refusalOf(unpackArchive(input, box.dest, CAPS));
    expect(error.message).toBe("reading the archive from the input failed: Connection reset by peer");
  });
});

describe("what is unpacked", () => {
  it("unpacks files, folders and links, keeps paths as written, and reports totals and progress", async () => {
    const big = randomBytes(3 * 1024 * 1024 + 17); // streamed through in pieces
    const progress: Array<[number, number]> = [];
    const result = await unpackBytes(
      await buildTar([
        { name: "./Procfile", content: procfile.content },
        { name: "app/", type: "directory" },
        { name: "app/main.py", content: "print('hi')\n" },
        { name: "app/data/big.bin", content: big },
        { name: "app/empty.txt", content: "" },
        { name: "app/link", type: "symlink", linkname: "main.py" },
      ]),
      box,
      { onProgress: (bytes, entries) => progress.push([bytes, entries]) },
    );
    expect(result).toEqual({ commit: null, entries: 6, bytes: procfile.content.length + 12 + big.length });
    expect(listTree(box.dest)).toEqual([
      "Procfile",
      "app/",
      "app/data/",
      "app/data/big.bin",
      "app/empty.txt",
      "app/link",
      "app/main.py",
    ]);
    expect(readFileSync(join(box.dest, "app/data/big.bin")).equals(big)).toBe(true);
    expect(progress.at(-1)).toEqual([result.bytes, 6]);
  });

  it("replaces an earlier file of the same name (the later entry wins, as with tar)", async () => {
    await unpackBytes(
      await buildTar([
        { name: "config.txt", content: "first" },
        { name: "config.txt", content: "second" },
      ]),
      box,
    );
    expect(readFileSync(join(box.dest, "config.txt"), "utf8")).toBe("second");
  });

  it("refuses an entry that needs an earlier file to be a folder", async () => {
    const error = await refusal(
      await buildTar([
        { name: "a", content: "file" },
        { name: "a/b", content: "x" },
      ]),
      box,
    );
    expect(error.message).toBe('archive entry "a/b" needs "a" to be a folder, but an earlier entry made it a file');
  });

  it("refuses an entry that would replace a folder", async () => {
    const error = await refusal(
      await buildTar([
        { name: "a/b", content: "x" },
        { name: "a", type: "symlink", linkname: "elsewhere" },
      ]),
      box,
    );
    expect(error.message).toBe('archive entry "a" would replace the folder "a" made by an earlier entry');
  });

  it("reads the commit id from a pax global header", async () => {
    const sha = "0123456789abcdef0123456789abcdef01234567";
    const result = await unpackBytes(await buildTar([procfile], { globalHeader: sha }), box);
    expect(result.commit).toBe(sha);
  });

  it("accepts an archive with no entries (what tar writes for an empty list, and git's header alone)", async () => {
    const empty = Buffer.alloc(10240);
    expect(await unpackBytes(empty, box)).toEqual({ commit: null, entries: 0, bytes: 0 });
    const sha = "89abcdef0123456789abcdef0123456789abcdef";
    const other = sandboxAgain();
    expect(await unpackBytes(await buildTar([], { globalHeader: sha }), other)).toEqual({ commit: sha, entries: 0, bytes: 0 });
  });

  it("ignores a global comment that is not a commit id", async () => {
    const result = await unpackBytes(await buildTar([procfile], { globalHeader: "made by hand" }), box);
    expect(result.commit).toBeNull();
  });
});

function sandboxAgain(): Sandbox {
  const extra = sandbox();
  cleanups.push(() => removeSandbox(extra));
  return extra;
}
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

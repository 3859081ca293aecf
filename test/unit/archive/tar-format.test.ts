/**
 * The tar format as src/archive/tar-reader.ts reads it, through unpackArchive:
 * what extended headers may change (and that the policy judges the name they
 * give, not the one in the ustar header), how sizes and the end of the archive
 * are read, and the refusals of a format a parser must not guess at.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { buildTar, extendedHeader, onlyDestIn, paxRecords, rawHeader, refusal, removeSandbox, sandbox, type Sandbox, sandboxPerTest, unpackBytes } from "./support.js";

let box: Sandbox;
sandboxPerTest((fresh) => (box = fresh));

const END = Buffer.alloc(1024);
const extraBoxes: Sandbox[] = [];
afterEach(() => {
  for (const extra of extraBoxes.splice(0)) {
    expect(onlyDestIn(extra)).toEqual(["deploy"]);
    removeSandbox(extra);
  }
});

/** A second (third…) empty deploy folder for one test, checked and removed after it. */
function sandboxFor(): Sandbox {
  const extra = sandbox();
  extraBoxes.push(extra);
  return extra;
}

function writeChecksum(header: Buffer): void {
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "latin1");
}
const procfile = { name: "Procfile", content: "web: python app.py\n" };

/** A file entry's header and its data padded to whole blocks. */
function fileEntry(name: string, content: string, size = Buffer.byteLength(content)): Buffer {
  const data = Buffer.alloc(Math.ceil(Buffer.byteLength(content) / 512) * 512);
  data.write(content);
  return Buffer.concat([rawHeader({ name, size, typeflag: "0" }), data]);
}

describe("extended headers", () => {
  it("takes a file's name from its pax header, and refuses one that climbs out whatever the ustar name says", async () => {
    const named = Buffer.concat([extendedHeader("x", paxRecords({ path: "deep/real-name.txt" })), fileEntry("short.txt", "pax\n"), END]);
    await unpackBytes(named, box);
    expect(readFileSync(join(box.dest, "deep/real-name.txt"), "utf8")).toBe("pax\n");
    expect(existsSync(join(box.dest, "short.txt"))).toBe(false);

    const other = sandbox();
    try {
      const hostile = Buffer.concat([extendedHeader("x", paxRecords({ path: "../escape.txt" })), fileEntry("innocent.txt", "x"), END]);
      expect((await refusal(hostile, other)).message).toBe('archive entry "../escape.txt" would land outside the deploy folder');
      expect(readdirSync(other.dest)).toEqual([]);
    } finally {
      removeSandbox(other);
    }
  });

  it("judges a symbolic link by its pax linkpath", async () => {
    const hostile = Buffer.concat([
      extendedHeader("x", paxRecords({ linkpath: "/etc/passwd" })),
      rawHeader({ name: "l", size: 0, typeflag: "2", linkname: "harmless" }),
      END,
    ]);
    expect((await refusal(hostile, box)).message).toBe(
      'archive entry "l" is a symbolic link to the absolute path "/etc/passwd", outside the deploy folder; links must be relative',
    );
  });

  it("reads GNU long names and long link targets, and refuses a long name that climbs out", async () => {
    const longName = `${"d".repeat(120)}/file.txt`;
    const gnu = Buffer.concat([
      extendedHeader("L", Buffer.from(`${longName}\0`)),
      fileEntry("truncated-name", "gnu\n"),
      extendedHeader("K", Buffer.from(`${"d".repeat(120)}\0`)),
      rawHeader({ name: "link", size: 0, typeflag: "2", linkname: "cut" }),
      END,
    ]);
    await unpackBytes(gnu, box);
    expect(readFileSync(join(box.dest, longName), "utf8")).toBe("gnu\n");
    expect(readlinkSync(join(box.dest, "link"))).toBe("d".repeat(120));

    const other = sandbox();
    try {
      const hostile = Buffer.concat([extendedHeader("L", Buffer.from("a/../../out\0")), fileEntry("in", "x"), END]);
      expect((await refusal(hostile, other)).message).toBe('archive entry "a/../../out" would land outside the deploy folder');
    } finally {
      removeSandbox(other);
    }
  });

  it("takes the size from a pax header over the ustar field", async () => {
    const tar = Buffer.concat([extendedHeader("x", paxRecords({ size: "5" })), fileEntry("five.txt", "12345", 0), END]);
    await unpackBytes(tar, box);
    expect(readFileSync(join(box.dest, "five.txt"), "utf8")).toBe("12345");
  });

  it("refuses an extended header over 4 MiB before reading it", async () => {
    const tar = Buffer.concat([await buildTar([procfile]).then((t) => t.subarray(0, 1024)), rawHeader({ name: "big", size: 5 * 1024 * 1024, typeflag: "x" })]);
    expect((await refusal(tar, box)).message).toBe('archive is corrupt: an extended header is larger than 4 MiB after entry "Procfile"');
  });

  it("refuses a malformed pax record", async () => {
    const tar = Buffer.concat([extendedHeader("x", Buffer.from("99 path=x\n")), fileEntry("a", "x"), END]);
    expect((await refusal(tar, box)).message).toBe("archive is corrupt: invalid extended header");
  });

  it("reads a pax record's length as decimal digits only, as GNU tar does (not 0x10)", async () => {
    const tar = Buffer.concat([extendedHeader("x", Buffer.from("0x10 path=hexed\n")), fileEntry("plain", "x"), END]);
    expect((await refusal(tar, box)).message).toBe("archive is corrupt: invalid extended header");
  });

  it("applies only the last of two pax headers before an entry, as GNU tar does", async () => {
    const tar = Buffer.concat([
      extendedHeader("x", paxRecords({ path: "first-pax-name" })),
      extendedHeader("x", paxRecords({ linkpath: "target" })),
      rawHeader({ name: "link", size: 0, typeflag: "2", linkname: "ustar-target" }),
      END,
    ]);
    await unpackBytes(tar, box);
    expect(readdirSync(box.dest)).toEqual(["link"]);
    expect(readlinkSync(join(box.dest, "link"))).toBe("target");
  });

  it("refuses a sparse file (GNU.sparse pax records) instead of unpacking its map as data under another name", async () => {
    const records = paxRecords({ "GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": "real", "GNU.sparse.realsize": "10" });
    const tar = Buffer.concat([extendedHeader("x", records), fileEntry("GNUSparseFile.1/real", "1\n0\n10\n"), END]);
    expect((await refusal(tar, box)).message).toBe(
      'archive entry "GNUSparseFile.1/real" is a sparse file (GNU.sparse records); sarge does not unpack sparse files',
    );
  });

  it("refuses a pax global header that renames every later entry (GNU tar applies it), wherever it is", async () => {
    const leading = Buffer.concat([extendedHeader("g", paxRecords({ path: "everything" })), fileEntry("a", "x"), END]);
    expect((await refusal(leading, box)).message).toBe('archive has a pax global header that sets "path" for every later entry; sarge does not apply global headers');
    const later = Buffer.concat([fileEntry("a", "x"), extendedHeader("g", paxRecords({ size: "0" })), fileEntry("b", "y"), END]);
    expect((await refusal(later, sandboxFor())).message).toBe(
      'archive has a pax global header that sets "size" for every later entry after entry "a"; sarge does not apply global headers',
    );
  });

  it("refuses a name that is not UTF-8 in a header or a pax record (it was written as U+FFFD, and two names became one)", async () => {
    const latin1 = rawHeader({ name: "caf", size: 0, typeflag: "0" });
    latin1[3] = 0xe9;
    writeChecksum(latin1);
    expect((await refusal(Buffer.concat([latin1, END]), box)).message).toBe(
      'archive has a name or link target that is not valid UTF-8 ("caf\uFFFD"); sarge would write it under another name',
    );
    const record = Buffer.concat([Buffer.from("13 path=caf"), Buffer.from([0xe9]), Buffer.from("\n")]);
    const pax = Buffer.concat([extendedHeader("x", record), fileEntry("plain", "x"), END]);
    expect((await refusal(pax, sandboxFor())).message).toBe(
      'archive has a name or link target that is not valid UTF-8 ("path=caf\uFFFD"); sarge would write it under another name',
    );
    await unpackBytes(Buffer.concat([fileEntry("caf\u00e9-\uFFFD.txt", "valid UTF-8, U+FFFD included"), END]), sandboxFor());
  });

  it("refuses typeflag N (old GNU long name), which GNU tar does not read as a name", async () => {
    const tar = Buffer.concat([extendedHeader("N", Buffer.from("renamed\0")), fileEntry("a", "x"), END]);
    expect((await refusal(tar, box)).message).toBe(
      'archive entry "././@LongLink" has an unsupported entry type; only files, folders and links can be unpacked',
    );
  });
});

describe("sizes, folders and the end of the archive", () => {
  it("reads a size in GNU base-256", async () => {
    const header = rawHeader({ name: "b256.txt", size: 0, typeflag: "0" });
    header.fill(0, 124, 136);
    header[124] = 0x80;
    header[135] = 3;
    header.fill(0x20, 148, 156);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "latin1");
    const data = Buffer.alloc(512);
    data.write("abc");
    await unpackBytes(Buffer.concat([header, data, END]), box);
    expect(readFileSync(join(box.dest, "b256.txt"), "utf8")).toBe("abc");
  });

  it("refuses a folder or link that says data follows it: GNU tar reads none and would unpack what sarge skipped", async () => {
    const smuggled = fileEntry("smuggled.txt", "seen by GNU tar only\n");
    const folder = Buffer.concat([rawHeader({ name: "dir/", size: smuggled.length, typeflag: "5", mode: 0o755 }), smuggled, fileEntry("dir/real.txt", "ok\n"), END]);
    expect((await refusal(folder, box)).message).toBe(
      'archive is corrupt: entry "dir/" is a folder that says 1024 bytes of data follow it; tar tools disagree on whether to read them',
    );
    expect(existsSync(join(box.dest, "smuggled.txt"))).toBe(false);
    const link = Buffer.concat([rawHeader({ name: "link", size: 512, typeflag: "2", linkname: "dir" }), smuggled, END]);
    expect((await refusal(link, sandboxFor())).message).toBe(
      'archive is corrupt: entry "link" is a symbolic link that says 512 bytes of data follow it; tar tools disagree on whether to read them',
    );
    const oldStyle = Buffer.concat([fileEntry("old-style-folder/", "data"), END]); // a file entry named with "/" is a folder, for GNU tar too
    expect((await refusal(oldStyle, sandboxFor())).message).toBe(
      'archive is corrupt: entry "old-style-folder/" is a folder that says 4 bytes of data follow it; tar tools disagree on whether to read them',
    );
  });

  it("refuses a mode or modification time that is not a number (it wrote mode 000 and skipped the time)", async () => {
    for (const [offset, length] of [[100, 8], [136, 12]] as const) {
      const header = rawHeader({ name: "odd", size: 0, typeflag: "0" });
      header.write("9".repeat(length - 1) + "\0", offset, "latin1");
      writeChecksum(header);
      expect((await refusal(Buffer.concat([header, END]), sandboxFor())).message).toBe("archive is corrupt: invalid tar header");
    }
  });

  it("refuses a base-256 modification time beyond 2^53 (futimes failed with EINVAL)", async () => {
    const header = rawHeader({ name: "far-future", size: 0, typeflag: "0" });
    header.fill(0, 136, 148);
    header[136] = 0x80;
    header[137] = 0x7f;
    writeChecksum(header);
    expect((await refusal(Buffer.concat([header, END]), box)).message).toBe("archive is corrupt: invalid tar header");
  });

  it("refuses anything but zeros after the end-of-archive marker (a second archive appended is not unpacked in part)", async () => {
    const first = await buildTar([procfile]);
    const second = await buildTar([{ name: "app.py", content: "print()\n" }]);
    expect((await refusal(Buffer.concat([first, second]), box)).message).toBe(
      'archive is corrupt: non-zero bytes follow its end-of-archive marker (last entry: "Procfile")',
    );
  });

  it("refuses a later header that is not ustar or GNU", async () => {
    const tar = await buildTar([procfile, { name: "app.py", content: "x" }]);
    tar.write("nottar", 1024 + 257, "latin1");
    tar.fill(0x20, 1024 + 148, 1024 + 156);
    let sum = 0;
    for (const byte of tar.subarray(1024, 1536)) sum += byte;
    tar.write(sum.toString(8).padStart(6, "0") + "\0 ", 1024 + 148, "latin1");
    expect((await refusal(tar, box)).message).toBe('archive is corrupt: invalid tar header after entry "Procfile"');
  });
});

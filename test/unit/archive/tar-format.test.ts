/**
 * The tar format as src/archive/tar-reader.ts reads it, through unpackArchive:
 * what extended headers may change (and that the policy judges the name they
 * give, not the one in the ustar header), how sizes and the end of the archive
 * are read, and the refusals of a format a parser must not guess at.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  buildTar,
  extendedHeader,
  onlyDestIn,
  paxRecords,
  rawHeader,
  refusal,
  removeSandbox,
  sandbox,
  unpackBytes,
  type Sandbox,
} from "./support.js";

let box: Sandbox;
beforeEach(() => {
  box = sandbox();
});
afterEach(() => {
  expect(onlyDestIn(box)).toEqual(["deploy"]);
  removeSandbox(box);
});

const END = Buffer.alloc(1024);
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

  it("skips the data of a folder entry instead of reading it as headers", async () => {
    const smuggled = fileEntry("smuggled.txt", "never unpacked\n");
    const tar = Buffer.concat([rawHeader({ name: "dir/", size: smuggled.length, typeflag: "5", mode: 0o755 }), smuggled, fileEntry("dir/real.txt", "ok\n"), END]);
    expect(await unpackBytes(tar, box)).toEqual({ commit: null, entries: 2, bytes: 3 });
    expect(existsSync(join(box.dest, "smuggled.txt"))).toBe(false);
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

/**
 * A wheel's Requires-Dist, read from its `*.dist-info/METADATA` in Node: the zip's central
 * directory (zip64 too), then that one entry, stored or deflated. Reading only the tail and one
 * entry keeps a 100 MB wheel as cheap as a small one.
 */
import { open } from "node:fs/promises";
import { basename } from "node:path";
import { inflateRawSync } from "node:zlib";
import { SargeError } from "../util/errors.js";

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const METADATA = /^[^/]+\.dist-info\/METADATA$/;

export async function wheelRequiresDist(path: string): Promise<string[]> {
  const metadata = await readMetadata(path);
  const headers = metadata.split(/\r?\n\r?\n/, 1)[0]!;
  return headers
    .split(/\r?\n/)
    .filter((line) => /^Requires-Dist:/i.test(line))
    .map((line) => line.slice(line.indexOf(":") + 1).trim());
}

async function readMetadata(path: string): Promise<string> {
  const file = await open(path, "r");
  const unreadable = (why: string) => new SargeError(`cannot read the wheel ${basename(path)}: ${why}`);
  try {
    const read = async (position: number, length: number) => {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await file.read(buffer, 0, length, position);
      if (bytesRead !== length) throw unreadable("it ends early");
      return buffer;
    };
    const size = (await file.stat()).size;
    const tailLength = Math.min(size, 22 + 65535);
    const tail = await read(size - tailLength, tailLength);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw unreadable("not a zip file");
    let directorySize = tail.readUInt32LE(eocd + 12);
    let directoryOffset = tail.readUInt32LE(eocd + 16);
    if (directoryOffset === 0xffffffff && eocd >= 20 && tail.readUInt32LE(eocd - 20) === ZIP64_LOCATOR) {
      const record = await read(Number(tail.readBigUInt64LE(eocd - 12)), 56);
      directorySize = Number(record.readBigUInt64LE(40));
      directoryOffset = Number(record.readBigUInt64LE(48));
    }
    const directory = await read(directoryOffset, directorySize);
    for (let at = 0; at + 46 <= directory.length && directory.readUInt32LE(at) === CENTRAL; ) {
      const nameLength = directory.readUInt16LE(at + 28);
      const name = directory.toString("utf8", at + 46, at + 46 + nameLength);
      if (METADATA.test(name)) {
        const method = directory.readUInt16LE(at + 10);
        const compressed = directory.readUInt32LE(at + 20);
        const local = await read(directory.readUInt32LE(at + 42), 30);
        if (local.readUInt32LE(0) !== LOCAL) throw unreadable(`no local header for ${name}`);
        const data = await read(directory.readUInt32LE(at + 42) + 30 + local.readUInt16LE(26) + local.readUInt16LE(28), compressed);
        if (method === 0) return data.toString("utf8");
        if (method === 8) return inflateRawSync(data).toString("utf8");
        throw unreadable(`${name} is compressed with method ${method}`);
      }
      at += 46 + nameLength + directory.readUInt16LE(at + 30) + directory.readUInt16LE(at + 32);
    }
    throw unreadable("it has no .dist-info/METADATA");
  } finally {
    await file.close();
  }
}

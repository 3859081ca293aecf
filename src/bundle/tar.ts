/**
 * The bundle's tar: git archive's own bytes (its pax header with the commit id, its entries and
 * order) with sarge's entries appended in place of the end-of-archive blocks. Every appended
 * header is fixed (owner root 0/0, the commit's time, sorted names), so the same commit and
 * wheels give the same bytes.
 */
const BLOCK = 512;

export interface TarEntry {
  name: string;
  /** null for a folder. */
  data: Buffer | null;
  mode: number;
}

/** The archive up to its end-of-archive blocks: walks the headers, skipping each entry's data. */
export function withoutEnd(archive: Buffer): Buffer {
  let offset = 0;
  while (offset + BLOCK <= archive.length) {
    const header = archive.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) return archive.subarray(0, offset);
    const size = parseInt(header.subarray(124, 136).toString("ascii").replace(/\0.*$/s, "").trim() || "0", 8);
    offset += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }
  throw new Error("git archive wrote a tar without its end blocks");
}

/** The mtime of the archive's first header: git archive gives every header the commit's time. */
export function firstMtime(archive: Buffer): number {
  return parseInt(archive.subarray(136, 148).toString("ascii").replace(/\0.*$/s, "").trim() || "0", 8);
}

/** One entry: ustar header, data, padding. Names up to 255 bytes (prefix + name). */
export function entryBytes(entry: TarEntry, mtime: number): Buffer[] {
  const header = Buffer.alloc(BLOCK);
  const name = entry.data === null ? `${entry.name}/` : entry.name;
  const [prefix, base] = splitName(name);
  header.write(base, 0, 100, "utf8");
  writeOctal(header, 100, 8, entry.mode);
  writeOctal(header, 108, 8, 0);
  writeOctal(header, 116, 8, 0);
  writeOctal(header, 124, 12, entry.data?.length ?? 0);
  writeOctal(header, 136, 12, mtime);
  header.fill(" ", 148, 156);
  header.write(entry.data === null ? "5" : "0", 156, 1, "ascii");
  header.write("ustar\u000000", 257, 8, "ascii");
  header.write("root", 265, 32, "ascii");
  header.write("root", 297, 32, "ascii");
  header.write(prefix, 345, 155, "utf8");
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8, "ascii");
  if (entry.data === null) return [header];
  const padding = (BLOCK - (entry.data.length % BLOCK)) % BLOCK;
  return [header, entry.data, Buffer.alloc(padding)];
}

export const END_BLOCKS = Buffer.alloc(2 * BLOCK);

function splitName(name: string): [string, string] {
  if (Buffer.byteLength(name) <= 100) return ["", name];
  const cut = name.lastIndexOf("/", name.length - 2);
  const [prefix, base] = [name.slice(0, cut), name.slice(cut + 1)];
  if (cut < 0 || Buffer.byteLength(prefix) > 155 || Buffer.byteLength(base) > 100) throw new Error(`name too long for a ustar header: ${name}`);
  return [prefix, base];
}

function writeOctal(header: Buffer, offset: number, length: number, value: number): void {
  header.write(value.toString(8).padStart(length - 1, "0") + "\0", offset, length, "ascii");
}

/**
 * Random tars for the differential test (differential.test.ts): entries drawn
 * from a small set of names, link targets, types and modes chosen to collide
 * (a file then a link of the same name, names through links, `..`, absolute
 * paths), written as ustar or GNU headers, long names as pax or GNU 'L', and
 * then, for some, mutated: cut short, a header field rewritten with a valid
 * checksum, a byte flipped, garbage appended. Seeded and deterministic.
 */
import { extendedHeader, paxRecords } from "../../support/tars.js";

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = () => number;

function pick<T>(next: Random, items: readonly T[]): T {
  return items[Math.floor(next() * items.length)]!;
}

const NAMES = ["a", "b", "a/b", "a/b/c", "d/", "d/e", "s", "./f", ".env", "bin/run", "a//h", "t", "t/y", "long/" + "n".repeat(120)];
/** Names the policy refuses, or refuses after some entries (through a link, above the folder). */
const HOSTILE_NAMES = ["s/x", "t/z", "a/../g", "../up", "/abs", "x/../../up2", "s/../k"];
const TARGETS = ["a", "b", "a/b", ".", "t/..", "d/e", "missing", "s/x", "d", "a/../.."];
const HOSTILE_TARGETS = ["../out", "/etc", "..", "s", "s/..", "t/../.."];
const MODES = [0o644, 0o755, 0o600, 0o4755, 0o777, 0o1777, 0o640];
/** typeflag, and how often it is drawn. */
const TYPES: Array<[string, number]> = [
  ["0", 40],
  ["5", 14],
  ["2", 18],
  ["1", 10],
  ["\0", 3],
  ["7", 2],
  ["6", 1],
  ["3", 1],
  ["S", 1],
  ["V", 1],
  ["g", 1],
  ["x", 1],
];
const TYPE_TOTAL = TYPES.reduce((sum, [, weight]) => sum + weight, 0);

export interface GeneratedEntry {
  name: string;
  typeflag: string;
  mode: number;
  size: number;
  linkname: string;
  /** How a name longer than the header's field, or chosen so, is carried: "ustar" (prefix field or cut), "pax", "gnu". */
  longName: "ustar" | "pax" | "gnu";
}

export interface GeneratedTar {
  entries: GeneratedEntry[];
  mutation: string;
  bytes: Buffer;
}

export function generateTar(next: Random): GeneratedTar {
  const count = 1 + Math.floor(next() * 7);
  const gnu = next() < 0.3;
  const entries: GeneratedEntry[] = [];
  const blocks: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const entry = drawEntry(next, entries);
    entries.push(entry);
    blocks.push(entryBytes(entry, gnu, next));
  }
  blocks.push(Buffer.alloc(next() < 0.2 ? 512 : 1024));
  const clean = Buffer.concat(blocks);
  const { mutation, bytes } = next() < 0.35 ? mutate(clean, next) : { mutation: "none", bytes: clean };
  return { entries, mutation, bytes };
}

/** Hard links mostly name an earlier entry, as real ones do. */
function drawEntry(next: Random, earlier: GeneratedEntry[]): GeneratedEntry {
  let roll = next() * TYPE_TOTAL;
  let typeflag = "0";
  for (const [flag, weight] of TYPES) {
    roll -= weight;
    if (roll < 0) {
      typeflag = flag;
      break;
    }
  }
  const name = pick(next, next() < 0.12 ? HOSTILE_NAMES : NAMES);
  // a name ending in "/" makes a folder of a file entry: with data, a hostile one
  const carriesData = (typeflag === "0" || typeflag === "\0" || typeflag === "7") && (!name.endsWith("/") || next() < 0.2);
  return {
    name,
    typeflag,
    mode: pick(next, MODES),
    size: carriesData ? Math.floor(next() * (next() < 0.2 ? 2000 : 40)) : 0,
    linkname:
      typeflag === "1" && earlier.length > 0 && next() < 0.7
        ? pick(next, earlier).name
        : typeflag === "1" || typeflag === "2"
          ? pick(next, next() < 0.2 ? HOSTILE_TARGETS : TARGETS)
          : "",
    longName: next() < 0.7 ? "ustar" : next() < 0.5 ? "pax" : "gnu",
  };
}

function entryBytes(entry: GeneratedEntry, gnu: boolean, next: Random): Buffer {
  const parts: Buffer[] = [];
  let headerName = entry.name;
  if (entry.longName === "pax") {
    parts.push(extendedHeader("x", paxRecords({ path: entry.name, ...(entry.linkname ? { linkpath: entry.linkname } : {}) })));
    headerName = `PaxHeaders/${entry.name.slice(-40)}`;
  } else if (entry.longName === "gnu") {
    parts.push(extendedHeader("L", Buffer.from(`${entry.name}\0`)));
    if (entry.linkname) parts.push(extendedHeader("K", Buffer.from(`${entry.linkname}\0`)));
    headerName = entry.name.slice(0, 99);
  }
  parts.push(header({ ...entry, name: headerName }, gnu));
  if (entry.size > 0) {
    const data = Buffer.alloc(Math.ceil(entry.size / 512) * 512);
    for (let i = 0; i < entry.size; i++) data[i] = 0x61 + Math.floor(next() * 26);
    parts.push(data);
  }
  return Buffer.concat(parts);
}

/** One header block: ustar ("ustar\0" "00", long names split into the prefix field) or GNU ("ustar  \0"). */
export function header(entry: Omit<GeneratedEntry, "longName">, gnu: boolean): Buffer {
  const block = Buffer.alloc(512);
  let name = entry.name;
  if (!gnu && Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf("/", 155);
    if (cut > 0 && Buffer.byteLength(name) - cut - 1 <= 100) {
      block.write(name.slice(0, cut), 345, 155, "utf8");
      name = name.slice(cut + 1);
    }
  }
  block.write(name, 0, 100, "utf8");
  block.write(entry.mode.toString(8).padStart(7, "0") + "\0", 100, "latin1");
  block.write("0000000\0", 108, "latin1");
  block.write("0000000\0", 116, "latin1");
  block.write(entry.size.toString(8).padStart(11, "0") + "\0", 124, "latin1");
  block.write("14000000000\0", 136, "latin1");
  block.write(entry.typeflag, 156, "latin1");
  block.write(entry.linkname, 157, 100, "utf8");
  block.write(gnu ? "ustar  \0" : "ustar\0" + "00", 257, "latin1");
  writeChecksum(block, 0);
  return block;
}

function writeChecksum(bytes: Buffer, at: number): void {
  bytes.fill(0x20, at + 148, at + 156);
  let sum = 0;
  for (let i = at; i < at + 512; i++) sum += bytes[i]!;
  bytes.write(sum.toString(8).padStart(6, "0") + "\0 ", at + 148, "latin1");
}

/** Numeric field values a hostile header may hold: octal without terminator, spaces, base-256, negative, over 2^53, not octal. */
const NUMBERS = [
  "77777777777 ",
  "   17\0      ",
  "\x80\0\0\0\0\0\0\0\0\0\x02\0",
  "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xfe",
  "\x80\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
  "0000000001x\0",
  "\0\0\0\0\0\0\0\0\0\0\0\0",
  "00000001000 ",
  "-0000000001\0",
];

function mutate(clean: Buffer, next: Random): { mutation: string; bytes: Buffer } {
  const bytes = Buffer.from(clean);
  const blocks = bytes.length / 512;
  const at = Math.floor(next() * blocks) * 512;
  switch (Math.floor(next() * 7)) {
    case 0: {
      const length = Math.floor(next() * bytes.length);
      return { mutation: `cut to ${length} bytes`, bytes: bytes.subarray(0, length) };
    }
    case 1: {
      const offset = Math.floor(next() * bytes.length);
      bytes[offset] = bytes[offset]! ^ (1 << Math.floor(next() * 8));
      return { mutation: `bit flipped at ${offset}`, bytes };
    }
    case 2: {
      const field = pick(next, [100, 124, 136] as const);
      const value = pick(next, NUMBERS);
      bytes.write(value, at + field, field === 100 ? 8 : 12, "latin1");
      writeChecksum(bytes, at);
      return { mutation: `field ${field} of block ${at / 512} set to ${JSON.stringify(value)}, checksum fixed`, bytes };
    }
    case 3: {
      const typeflag = pick(next, ["0", "1", "2", "5", "x", "L", "K", "g", "S", "D", "M", "N"]);
      bytes.write(typeflag, at + 156, "latin1");
      writeChecksum(bytes, at);
      return { mutation: `typeflag of block ${at / 512} set to ${typeflag}, checksum fixed`, bytes };
    }
    case 4: {
      const garbage = Buffer.from("garbage after the end\n");
      return { mutation: "garbage appended", bytes: Buffer.concat([bytes, garbage]) };
    }
    case 5: {
      return { mutation: `zero block inserted at block ${at / 512}`, bytes: Buffer.concat([bytes.subarray(0, at), Buffer.alloc(512), bytes.subarray(at)]) };
    }
    default: {
      const offset = at + Math.floor(next() * 512);
      bytes[offset] = 0;
      writeChecksum(bytes, at);
      return { mutation: `byte ${offset} zeroed, checksum of block ${at / 512} fixed`, bytes };
    }
  }
}

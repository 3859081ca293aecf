/**
 * Hand-made wheels for tests, benchmarks and the demo: deterministic, offline, ~1 ms each.
 *
 * A wheel is a zip holding the package files plus `<name>-<version>.dist-info/` with
 * METADATA, WHEEL, RECORD (sha256 + size per file, as pip expects) and, when asked,
 * entry_points.txt. Entries are stored (not deflated) with a fixed 1980-01-01 timestamp,
 * so the same input always gives the same bytes.
 */
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface WheelSpec {
  /** Project name as written in METADATA, e.g. "Flask" or "my-lib". */
  name: string;
  version: string;
  /** Requires-Dist lines, PEP 508: ["itsdangerous>=2", "click; python_version>'3'"]. */
  requires?: string[];
  /** Package files, path inside the wheel → text. Default: `<module>/__init__.py` with `__version__`. */
  files?: Record<string, string>;
  /** Console scripts, script name → "module:function". */
  entryPoints?: Record<string, string>;
  /** Requires-Python, e.g. ">=3.99" to make a wheel the interpreter refuses. */
  requiresPython?: string;
  /** Wheel tag; default "py3-none-any". */
  tag?: string;
}

/** The import name a project gets by default: "My-Lib" → "my_lib". */
export function moduleName(name: string): string {
  return name.toLowerCase().replace(/[-.]+/g, "_");
}

/** The name as it appears in wheel file and dist-info names (PEP 427 escaping). */
export function wheelNamePart(name: string): string {
  return name.replace(/[-_.]+/g, "_");
}

/** File name of the wheel writeWheel produces for a spec. */
export function wheelFileName(spec: Pick<WheelSpec, "name" | "version" | "tag">): string {
  return `${wheelNamePart(spec.name)}-${spec.version}-${spec.tag ?? "py3-none-any"}.whl`;
}

/** Writes the wheel into `dir` (created if needed) and returns its path. */
export async function writeWheel(dir: string, spec: WheelSpec): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, wheelFileName(spec));
  await writeFile(path, wheelBytes(spec));
  return path;
}

/** The wheel's bytes, for callers that want to place them themselves. */
export function wheelBytes(spec: WheelSpec): Buffer {
  const distInfo = `${wheelNamePart(spec.name)}-${spec.version}.dist-info`;
  const files: Array<[string, Buffer]> = [];
  const packageFiles = spec.files ?? { [`${moduleName(spec.name)}/__init__.py`]: `__version__ = ${JSON.stringify(spec.version)}\n` };
  for (const [path, text] of Object.entries(packageFiles)) files.push([path, Buffer.from(text)]);

  const metadata = [
    "Metadata-Version: 2.1",
    `Name: ${spec.name}`,
    `Version: ${spec.version}`,
    ...(spec.requiresPython ? [`Requires-Python: ${spec.requiresPython}`] : []),
    ...(spec.requires ?? []).map((req) => `Requires-Dist: ${req}`),
    "",
  ].join("\n");
  files.push([`${distInfo}/METADATA`, Buffer.from(metadata)]);
  const tag = spec.tag ?? "py3-none-any";
  files.push([
    `${distInfo}/WHEEL`,
    Buffer.from(`Wheel-Version: 1.0\nGenerator: sarge-test-wheels\nRoot-Is-Purelib: true\nTag: ${tag}\n`),
  ]);
  if (spec.entryPoints && Object.keys(spec.entryPoints).length > 0) {
    const lines = Object.entries(spec.entryPoints).map(([script, target]) => `${script} = ${target}`);
    files.push([`${distInfo}/entry_points.txt`, Buffer.from(`[console_scripts]\n${lines.join("\n")}\n`)]);
  }
  const record = files.map(([path, data]) => `${path},sha256=${sha256(data)},${data.length}`);
  record.push(`${distInfo}/RECORD,,`);
  files.push([`${distInfo}/RECORD`, Buffer.from(record.join("\n") + "\n")]);
  return zipStored(files);
}

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("base64url");
}

// ---- a minimal zip writer: stored entries, fixed timestamps ----

const crcTable = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = crcTable[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const DOS_DATE_1980_01_01 = (0 << 9) | (1 << 5) | 1;

/** A zip of stored entries, in the given order. Names are UTF-8 (flag bit 11). */
export function zipStored(entries: Array<[string, Buffer]>): Buffer {
  const chunks: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const nameBytes = Buffer.from(name, "utf8");
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt16LE(0, 10); // time 00:00
    local.writeUInt16LE(DOS_DATE_1980_01_01, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(0, 28);
    chunks.push(local, nameBytes, data);

    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE((3 << 8) | 20, 4); // made by: unix, 2.0
    entry.writeUInt16LE(20, 6);
    entry.writeUInt16LE(0x0800, 8);
    entry.writeUInt16LE(0, 10);
    entry.writeUInt16LE(0, 12);
    entry.writeUInt16LE(DOS_DATE_1980_01_01, 14);
    entry.writeUInt32LE(crc, 16);
    entry.writeUInt32LE(data.length, 20);
    entry.writeUInt32LE(data.length, 24);
    entry.writeUInt16LE(nameBytes.length, 28);
    entry.writeUInt16LE(0, 30); // extra
    entry.writeUInt16LE(0, 32); // comment
    entry.writeUInt16LE(0, 34); // disk
    entry.writeUInt16LE(0, 36); // internal attributes
    entry.writeUInt32LE((0o100644 << 16) >>> 0, 38); // external: regular file, rw-r--r--
    entry.writeUInt32LE(offset, 42);
    central.push(entry, nameBytes);
    offset += local.length + nameBytes.length + data.length;
  }
  const centralSize = central.reduce((sum, chunk) => sum + chunk.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(0, 4);
  end.writeUInt16LE(0, 6);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  end.writeUInt16LE(0, 20);
  return Buffer.concat([...chunks, ...central, end]);
}

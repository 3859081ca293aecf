import { ArchiveError, quoteName } from "./error.js";
import { gitCommit, hasTarMagic, notTarMessage, refuseShortInput } from "./input.js";

/**
 * The tar format, read from chunks as they arrive: headers decoded in place,
 * each entry's data handed on as slices of the input chunks (no copy, no
 * stream per entry), everything synchronous. Understands ustar and GNU
 * headers, the ustar name prefix, GNU long names (L, K) and pax extended
 * headers (path, linkpath, size; each replaces the one before, as in GNU
 * tar); other pax records are ignored. Of pax global headers only a leading
 * one's `comment` (git's commit id) is read.
 *
 * Strict where a parser that guesses, or reads otherwise than GNU tar, would
 * be a risk (test/unit/archive/differential.test.ts compares the two): every
 * header's checksum and magic are checked, sizes and modes must be valid
 * numbers, extended headers are capped at 4 MiB, a folder or link that says
 * data follows it is refused (GNU tar reads none, tar-stream read a link's),
 * so are sparse files, global headers that would rename, relink or resize
 * every later entry, and names that are not UTF-8; the archive must end with the end-of-archive marker (a
 * zero block right after the last entry), and nothing but zeros may follow it.
 * What the entries may do is not its business: that is EntryPolicy's.
 */

/** One entry, with long names and pax records applied. Field names are those EntryPolicy reads. */
export interface TarHeader {
  name: string;
  /** tar-stream's names for the types ("file", "directory", "symlink", "link", …); null for a type tar does not define. */
  type: string | null;
  size: number;
  mode: number;
  /** Seconds since the epoch. */
  mtime: number;
  linkname: string | null;
}

/** Called synchronously, in archive order. A throw refuses the archive (push rethrows it). */
export interface TarHandler {
  /** A header; `header.size` bytes of data follow through `data`, then `end` (at once when there are none). */
  entry(header: TarHeader): void;
  data(chunk: Buffer): void;
  end(): void;
}

const BLOCK = 512;
const MAX_EXTENDED_HEADER = 4 * 1024 * 1024;
const ZERO = 0x30;

const TYPES: Record<number, string> = {
  0: "file",
  [ZERO]: "file",
  [ZERO + 1]: "link",
  [ZERO + 2]: "symlink",
  [ZERO + 3]: "character-device",
  [ZERO + 4]: "block-device",
  [ZERO + 5]: "directory",
  [ZERO + 6]: "fifo",
  [ZERO + 7]: "contiguous-file",
};
const PAX = 0x78; // x
const PAX_GLOBAL = 0x67; // g
const GNU_LONG_NAME = 0x4c; // L
const GNU_LONG_LINK = 0x4b; // K
/** A pax global header after the first header: checked, but its comment is not the archive's commit. */
const IGNORED_GLOBAL = -1;

const enum State {
  Header,
  Data,
  /** Padding after an entry's data, or a long header's payload. */
  Skip,
  Extended,
  /** After the end-of-archive marker: only zeros may follow. */
  Ended,
}

export class TarReader {
  /** Commit id from a leading pax global header (`git archive`); null when absent. */
  commit: string | null = null;
  /** Name of the last entry whose header was read, for messages; null before the first. */
  lastName: string | null = null;
  private state = State.Header;
  private readonly block = Buffer.alloc(BLOCK);
  private blockFill = 0;
  private headers = 0;
  /** Data bytes of the current entry not read yet. */
  private remaining = 0;
  private entrySize = 0;
  private skip = 0;
  /** The bytes being skipped belong to an entry (its padding), not to an extended header. */
  private skipInEntry = false;
  private extendedType = 0;
  private extended: Buffer = Buffer.alloc(0);
  private extendedFill = 0;
  private longName: string | null = null;
  private longLink: string | null = null;
  private pax: Map<string, string> | null = null;

  constructor(
    private readonly handler: TarHandler,
    private readonly gzip: boolean,
    private readonly sourceName: string,
  ) {}

  push(chunk: Buffer): void {
    const length = chunk.length;
    let at = 0;
    while (at < length) {
      switch (this.state) {
        case State.Data: {
          const n = Math.min(this.remaining, length - at);
          this.handler.data(at === 0 && n === length ? chunk : chunk.subarray(at, at + n));
          at += n;
          this.remaining -= n;
          if (this.remaining === 0) this.endEntry();
          break;
        }
        case State.Header:
          if (this.blockFill === 0 && length - at >= BLOCK) {
            this.header(chunk, at);
            at += BLOCK;
          } else {
            const n = Math.min(BLOCK - this.blockFill, length - at);
            chunk.copy(this.block, this.blockFill, at, at + n);
            this.blockFill += n;
            at += n;
            if (this.blockFill === BLOCK) {
              this.blockFill = 0;
              this.header(this.block, 0);
            }
          }
          break;
        case State.Skip: {
          const n = Math.min(this.skip, length - at);
          at += n;
          this.skip -= n;
          if (this.skip === 0) this.state = State.Header;
          break;
        }
        case State.Extended: {
          const n = Math.min(this.extended.length - this.extendedFill, length - at);
          chunk.copy(this.extended, this.extendedFill, at, at + n);
          this.extendedFill += n;
          at += n;
          if (this.extendedFill === this.extended.length) this.extendedDone();
          break;
        }
        case State.Ended:
          for (; at < length; at++) {
            if (chunk[at] !== 0) {
              throw new ArchiveError(
                `archive is corrupt: non-zero bytes follow its end-of-archive marker${this.lastName === null ? "" : ` (last entry: ${quoteName(this.lastName)})`}`,
              );
            }
          }
          break;
      }
    }
  }

  /** The input ended: throws unless the archive ended properly before. */
  finish(): void {
    if (this.headers === 0 && this.state === State.Header) {
      // not even one whole block: empty, cut inside its first header, or not a tar
      refuseShortInput(this.block.subarray(0, this.blockFill), this.gzip, this.sourceName);
    }
    switch (this.state) {
      case State.Ended:
        return;
      case State.Header:
        if (this.blockFill > 0) throw this.truncatedInHeader();
        // Without entries there is no "after the last entry" to look at (git's global header alone).
        if (this.lastName === null) return;
        throw new ArchiveError(`archive is truncated: it ends after entry ${quoteName(this.lastName)} without the end-of-archive marker`);
      case State.Data:
        throw new ArchiveError(`archive is truncated: it ends inside entry ${quoteName(this.lastName!)}`);
      case State.Skip:
        if (this.skipInEntry) throw new ArchiveError(`archive is truncated: it ends inside entry ${quoteName(this.lastName!)}`);
        throw this.truncatedInHeader();
      case State.Extended:
        throw this.truncatedInHeader();
    }
  }

  private header(buffer: Buffer, at: number): void {
    const all = byteSum(buffer, at);
    if (all === 0) {
      this.headers += 1;
      this.state = State.Ended;
      return;
    }
    const block = at === 0 && buffer.length === BLOCK ? buffer : buffer.subarray(at, at + BLOCK);
    this.headers += 1;
    const posix = isMagic(block, 0x00);
    let field = 0;
    for (let i = 148; i < 156; i++) field += block[i]!;
    const checksumOk = all - field + 8 * 0x20 === octal(block, 148, 8);
    // a first block that is no tar header at all gets its own message, naming the format when it is a known one
    if (this.headers === 1 && !(checksumOk && hasTarMagic(block))) throw new ArchiveError(notTarMessage(block, this.gzip, "the first 512 bytes are not a tar header"));
    if (!checksumOk || !(posix || isMagic(block, 0x20))) throw new ArchiveError(`archive is corrupt: invalid tar header${this.after()}`);
    const size = number(block, 124, 12);
    const mode = number(block, 100, 8);
    const mtime = number(block, 136, 12);
    if (!(size >= 0) || !(mode >= 0) || !(mtime >= 0)) throw new ArchiveError(`archive is corrupt: invalid tar header${this.after()}`);
    const flag = block[156]!;

    if (flag === PAX || flag === PAX_GLOBAL || flag === GNU_LONG_NAME || flag === GNU_LONG_LINK) {
      if (size > MAX_EXTENDED_HEADER) throw new ArchiveError(`archive is corrupt: an extended header is larger than 4 MiB${this.after()}`);
      this.extendedType = flag === PAX_GLOBAL && this.headers > 1 ? IGNORED_GLOBAL : flag; // only a leading global header gives the commit
      this.extended = Buffer.allocUnsafe(size);
      this.extendedFill = 0;
      if (size === 0) this.extendedDone();
      else this.state = State.Extended;
      return;
    }

    let name = text(block, 0, 100);
    if (posix && block[345] !== 0) name = `${text(block, 345, 155)}/${name}`;
    let linkname = block[157] === 0 ? null : text(block, 157, 100);
    let entrySize = size;
    if (this.longName !== null) name = this.longName;
    if (this.longLink !== null) linkname = this.longLink;
    const pax = this.pax;
    if (pax !== null) {
      name = pax.get("path") ?? name;
      if (hasSparseRecord(pax)) throw new ArchiveError(`archive entry ${quoteName(name)} is a sparse file (GNU.sparse records); sarge does not unpack sparse files`);
      linkname = pax.get("linkpath") ?? linkname;
      const paxSize = pax.get("size");
      if (paxSize !== undefined) {
        if (!/^[0-9]{1,15}$/.test(paxSize)) throw new ArchiveError(`archive is corrupt: invalid size ${JSON.stringify(paxSize)} in the extended header of ${quoteName(name)}`);
        entrySize = Number(paxSize);
      }
    }
    this.longName = null;
    this.longLink = null;
    this.pax = null;

    this.lastName = name;
    let type = TYPES[flag] ?? null;
    if ((type === "file" || type === "contiguous-file") && name.endsWith("/")) type = "directory"; // old tars mark folders so, and GNU tar reads them so
    if (entrySize !== 0 && (type === "directory" || type === "symlink" || type === "link")) {
      throw new ArchiveError(
        `archive is corrupt: entry ${quoteName(name)} is a ${type === "directory" ? "folder" : type === "link" ? "hard link" : "symbolic link"} that says ${entrySize} bytes of data follow it; tar tools disagree on whether to read them`,
      );
    }
    this.entrySize = entrySize;
    this.remaining = entrySize;
    this.handler.entry({ name, type, size: entrySize, mode, mtime, linkname });
    if (entrySize === 0) this.endEntry();
    else this.state = State.Data;
  }

  private endEntry(): void {
    this.handler.end();
    this.startSkip(padding(this.entrySize), true);
  }

  private extendedDone(): void {
    const payload = this.extended;
    this.extended = Buffer.alloc(0);
    switch (this.extendedType) {
      case PAX:
        this.pax = paxRecords(payload, () => `archive is corrupt: invalid extended header${this.after()}`);
        break;
      case PAX_GLOBAL:
        this.commit = gitCommit(this.checkGlobal(payload).get("comment"));
        break;
      case IGNORED_GLOBAL:
        this.checkGlobal(payload);
        break;
      case GNU_LONG_NAME:
        this.longName = text(payload, 0, payload.length);
        break;
      case GNU_LONG_LINK:
        this.longLink = text(payload, 0, payload.length);
        break;
    }
    this.startSkip(padding(payload.length), false);
  }

  /** GNU tar applies a global header's records to every later entry: refuse those that would change what is written. Returns the records. */
  private checkGlobal(payload: Buffer): Map<string, string> {
    const records = paxRecords(payload, () => `archive is corrupt: invalid pax global header${this.after()}`);
    for (const key of ["path", "linkpath", "size"]) {
      if (records.has(key)) {
        throw new ArchiveError(`archive has a pax global header that sets ${JSON.stringify(key)} for every later entry${this.after()}; sarge does not apply global headers`);
      }
    }
    if (hasSparseRecord(records)) throw new ArchiveError(`archive has a pax global header with GNU.sparse records${this.after()}; sarge does not unpack sparse files`);
    return records;
  }

  private startSkip(bytes: number, inEntry: boolean): void {
    this.skip = bytes;
    this.skipInEntry = inEntry;
    this.state = bytes === 0 ? State.Header : State.Skip;
  }

  private after(): string {
    return this.lastName === null ? "" : ` after entry ${quoteName(this.lastName)}`;
  }

  private truncatedInHeader(): ArchiveError {
    return new ArchiveError(
      this.lastName === null
        ? "archive is truncated: it ends inside a header"
        : `archive is truncated: it ends inside the header after entry ${quoteName(this.lastName)}`,
    );
  }
}

function padding(size: number): number {
  const rest = size % BLOCK;
  return rest === 0 ? 0 : BLOCK - rest;
}

/** The sum of a block's 512 bytes, four at a time: two 16-bit lanes per word, which cannot overflow in 128 words. */
function byteSum(buffer: Buffer, at: number): number {
  const view = new DataView(buffer.buffer, buffer.byteOffset + at, BLOCK);
  let lanes = 0;
  for (let i = 0; i < BLOCK; i += 4) {
    const word = view.getUint32(i, true);
    lanes += (word & 0x00ff00ff) + ((word >>> 8) & 0x00ff00ff);
  }
  return (lanes & 0xffff) + (lanes >>> 16);
}

/** "ustar\0" (POSIX) or "ustar " (GNU) at offset 257. */
function isMagic(block: Buffer, sixth: number): boolean {
  return block[257] === 0x75 && block[258] === 0x73 && block[259] === 0x74 && block[260] === 0x61 && block[261] === 0x72 && block[262] === sixth;
}

/** A NUL-terminated UTF-8 field. */
function text(block: Buffer, offset: number, length: number): string {
  let end = offset;
  const limit = offset + length;
  while (end < limit && block[end] !== 0) end++;
  return utf8(block, offset, end);
}

/**
 * Bytes as UTF-8, refused when they are not: decoding would write the name under another one (each bad
 * byte becomes U+FFFD), and two different names could become one where GNU tar writes both.
 */
function utf8(bytes: Buffer, from: number, to: number): string {
  const value = bytes.toString("utf8", from, to);
  if (value.includes("\uFFFD") && !Buffer.from(value).equals(bytes.subarray(from, to))) {
    throw new ArchiveError(`archive has a name or link target that is not valid UTF-8 (${quoteName(value)}); sarge would write it under another name`);
  }
  return value;
}

/** An octal field (leading spaces, ending at a NUL or space), or NaN. */
function octal(block: Buffer, offset: number, length: number): number {
  let i = offset;
  const end = offset + length;
  while (i < end && block[i] === 0x20) i++;
  let value = 0;
  let digits = 0;
  for (; i < end; i++) {
    const byte = block[i]!;
    if (byte === 0 || byte === 0x20) break;
    if (byte < ZERO || byte > ZERO + 7) return Number.NaN;
    value = value * 8 + (byte - ZERO);
    digits += 1;
  }
  for (; i < end; i++) if (block[i] !== 0 && block[i] !== 0x20) return Number.NaN;
  return digits === 0 ? 0 : value;
}

/** A numeric field: octal, or GNU base-256 when the high bit of its first byte is set (negative values and values over 2^53 are NaN). */
function number(block: Buffer, offset: number, length: number): number {
  const first = block[offset]!;
  if ((first & 0x80) === 0) return octal(block, offset, length);
  if (first !== 0x80) return Number.NaN;
  let value = 0;
  for (let i = offset + 1; i < offset + length; i++) value = value * 256 + block[i]!;
  return value > Number.MAX_SAFE_INTEGER ? Number.NaN : value;
}

function hasSparseRecord(records: Map<string, string>): boolean {
  for (const key of records.keys()) if (key.startsWith("GNU.sparse.")) return true;
  return false;
}

/** pax records, "<length> <key>=<value>\n" each; the length is decimal digits, as GNU tar requires. */
function paxRecords(payload: Buffer, invalid: () => string): Map<string, string> {
  const into = new Map<string, string>();
  let at = 0;
  while (at < payload.length) {
    if (payload[at] === 0) break; // NUL padding after the last record
    const space = payload.indexOf(0x20, at);
    const length = space > at && space - at <= 8 ? decimal(payload, at, space) : Number.NaN;
    if (!Number.isInteger(length) || length <= space - at + 1 || at + length > payload.length || payload[at + length - 1] !== 0x0a) {
      throw new ArchiveError(invalid());
    }
    const record = utf8(payload, space + 1, at + length - 1);
    const equals = record.indexOf("=");
    if (equals <= 0) throw new ArchiveError(invalid());
    into.set(record.slice(0, equals), record.slice(equals + 1));
    at += length;
  }
  return into;
}

/** ASCII decimal digits, or NaN (Number() would also take "0x10", "1e3", " 12"). */
function decimal(bytes: Buffer, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i++) {
    const byte = bytes[i]!;
    if (byte < ZERO || byte > ZERO + 9) return Number.NaN;
    value = value * 10 + (byte - ZERO);
  }
  return value;
}

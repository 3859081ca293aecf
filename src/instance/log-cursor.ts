import { statSync } from "node:fs";
import { readRange } from "../util/file-bytes.js";

/** Copies past this many are not looked for (sarge keeps 5 by default). */
const MOST_COPIES = 100;
/** Enough of a log's end to tell it from another generation of the same log. */
const RECOGNISED_BYTES = 256;

interface FileMark {
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
}

/**
 * Reads what is appended to one log, across its rotations, however many fall
 * between two reads as long as the copies are kept: the rotated copies are
 * `<log>.1` (newest) … `<log>.N`, by copy-then-truncate (sarge's supervisors)
 * or by rename. The copies newer than the newest one at the last read (found
 * again by inode and modification time: a rename keeps both, a new copy never
 * has both) were made since; the oldest of them is the generation the last read
 * was in when it ends with the bytes read last, and is read on from there.
 */
export class LogCursor {
  private inode: bigint;
  private newestCopy: FileMark | null;
  /** The last bytes read of the current generation, to recognise it among the copies. */
  private lastBytes: Buffer;

  constructor(
    readonly file: string,
    private position: number,
  ) {
    this.inode = markOf(file)?.ino ?? 0n;
    this.newestCopy = markOf(`${file}.1`);
    this.lastBytes = readRange(file, Math.max(0, position - RECOGNISED_BYTES), position);
  }

  /** What was appended since the last read, in order; a notice where lines were rotated away unread. */
  read(): string {
    const current = markOf(this.file);
    if (!current) return "";
    const copies = this.newCopies();
    let rotated = "";
    if (copies.length > 0) {
      // a copy is made before the log is emptied (or, by rename, replaced): until then there is nothing new to read
      if (current.ino === this.inode && current.size >= copies[0]!.size) return "";
      rotated = this.readCopies(copies);
      this.newestCopy = copies[0]!;
      this.restart(current.ino);
    } else if (current.ino !== this.inode || Number(current.size) < this.position) {
      // emptied or replaced without a copy: what it held past the last read went with it
      this.restart(current.ino);
    }
    const appended = readRange(this.file, this.position, Number(current.size));
    this.position += appended.length;
    this.lastBytes = Buffer.concat([this.lastBytes, appended]).subarray(-RECOGNISED_BYTES);
    return rotated + appended.toString("utf8");
  }

  private restart(inode: bigint): void {
    this.inode = inode;
    this.position = 0;
    this.lastBytes = Buffer.alloc(0);
  }

  /** The copies made since the last read, newest first. */
  private newCopies(): FileMark[] {
    const marks: FileMark[] = [];
    for (let index = 1; index <= MOST_COPIES; index++) {
      const mark = markOf(`${this.file}.${index}`);
      if (!mark || (this.newestCopy && sameFile(mark, this.newestCopy))) break;
      marks.push(mark);
    }
    return marks;
  }

  private readCopies(copies: FileMark[]): string {
    const oldest = `${this.file}.${copies.length}`;
    const continues = readRange(oldest, this.position - this.lastBytes.length, this.position).equals(this.lastBytes);
    let text = continues ? "" : "--- lines rotated away before they were read ---\n";
    text += readRange(oldest, continues ? this.position : 0, Number(copies.at(-1)!.size)).toString("utf8");
    for (let index = copies.length - 1; index >= 1; index--) text += readRange(`${this.file}.${index}`, 0, Number(copies[index - 1]!.size)).toString("utf8");
    return text;
  }
}

function sameFile(a: FileMark, b: FileMark): boolean {
  return a.ino === b.ino && a.mtimeNs === b.mtimeNs;
}

function markOf(file: string): FileMark | null {
  try {
    const { ino, size, mtimeNs } = statSync(file, { bigint: true });
    return { ino, size, mtimeNs };
  } catch {
    return null;
  }
}

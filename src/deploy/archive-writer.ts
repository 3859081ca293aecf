import { Worker } from "node:worker_threads";

/**
 * The write side of unpacking. Every file system change the unpacker makes
 * (folders, files, links, removals) is an operation sent, in archive order, to
 * one writer thread that performs it with plain synchronous calls.
 *
 * Why a thread: with one libuv thread-pool round trip per open/write/close, a
 * 10,000-file archive spent most of its time in hand-offs (about 5x slower than
 * `tar -x` on tmpfs); synchronous calls on the main thread would be as fast as
 * tar but would stall the event loop (progress, signals, the lock heartbeat).
 * A dedicated thread gets both: the main thread parses while the writer
 * writes, and operations are batched (file data is copied once into a
 * transferred batch buffer, never structured-cloned). Order is kept by
 * construction, so a hard link always follows its target and a replacement
 * follows what it replaces.
 *
 * Memory: at most MAX_IN_FLIGHT_BYTES of batches are queued for the thread;
 * past that, `congested` is true and the caller waits on `room()`.
 */

const BATCH_BYTES = 1024 * 1024;
const MAX_BATCH_OPS = 1024;
const MAX_IN_FLIGHT_BYTES = 8 * 1024 * 1024;
/** Files up to this size travel whole in one batch ("f" operation); larger ones are streamed in pieces. */
export const WHOLE_FILE_BYTES = 256 * 1024;

/** Operations, terse because thousands are structured-cloned: k = kind, p = path (relative), m = mode, t = mtime in seconds (-1: leave), o/n = offset/length in the batch data, x = link target. */
type Op =
  | { k: "f"; p: string; m: number; t: number; o: number; n: number }
  | { k: "o"; p: string; m: number }
  | { k: "w"; o: number; n: number }
  | { k: "z"; t: number }
  | { k: "d" | "c"; p: string; m: number }
  | { k: "u"; p: string }
  | { k: "s" | "l"; p: string; x: string };

interface Reply {
  id: number;
  data: ArrayBuffer | null;
  error?: { message: string; code: string | undefined; index: number };
}

/** A failed file system operation, with the archive entry it was for. */
export class EntryWriteError extends Error {
  constructor(
    readonly entryName: string | undefined,
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/** Streams one file's data into batches. `write` returns false when the caller should wait for `room()`. */
export interface FileSink {
  write(chunk: Buffer): boolean;
  end(): void;
}

export class TreeWriter {
  /** The first failure (thread error or failed operation); later operations are not performed. */
  error: Error | null = null;
  /** Called once, with the first failure. */
  onError: (error: Error) => void = () => undefined;

  private readonly worker: Worker;
  private ops: Op[] = [];
  private names: string[] = [];
  private buffer: Buffer | null = null;
  private used = 0;
  private nextId = 1;
  private readonly inFlight = new Map<number, { names: string[]; bytes: number }>();
  private inFlightBytes = 0;
  private readonly spare: ArrayBuffer[] = [];
  private waiters: Array<() => void> = [];
  private closing = false;

  constructor(root: string) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { root } });
    this.worker.on("message", (reply: Reply) => this.received(reply));
    this.worker.on("error", (error) => this.fail(new EntryWriteError(undefined, `the writer thread failed: ${error.message}`, undefined)));
    this.worker.on("exit", (code) => {
      if (!this.closing) this.fail(new EntryWriteError(undefined, `the writer thread exited early (code ${code})`, undefined));
      this.wake();
    });
  }

  get congested(): boolean {
    return this.inFlightBytes >= MAX_IN_FLIGHT_BYTES && this.error === null;
  }

  /** Resolves when more may be queued (or the writer failed: check `error`). */
  room(): Promise<void> {
    if (!this.congested) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  mkdir(path: string, mode: number, name: string): void {
    this.push({ k: "d", p: path, m: mode }, name);
  }

  chmod(path: string, mode: number, name: string): void {
    this.push({ k: "c", p: path, m: mode }, name);
  }

  unlink(path: string, name: string): void {
    this.push({ k: "u", p: path }, name);
  }

  symlink(target: string, path: string, name: string): void {
    this.push({ k: "s", p: path, x: target }, name);
  }

  /** Hard link `path` to the earlier file `existing` (both relative). */
  link(existing: string, path: string, name: string): void {
    this.push({ k: "l", p: path, x: existing }, name);
  }

  /** A new regular file of `size` bytes; its data goes through the returned sink. */
  file(path: string, mode: number, mtime: Date | undefined, size: number, name: string): FileSink {
    const t = mtime instanceof Date && !Number.isNaN(mtime.getTime()) ? mtime.getTime() / 1000 : -1;
    if (size <= WHOLE_FILE_BYTES) {
      if (this.buffer === null || this.buffer.length - this.used < size) {
        this.flush();
        this.buffer = this.newBuffer();
      }
      const buffer = this.buffer;
      const start = this.used;
      let offset = start;
      this.used += size; // reserved: nothing else touches this range before end()
      return {
        write: (chunk) => {
          const room = start + size - offset;
          chunk.copy(buffer, offset, 0, Math.min(chunk.length, room));
          offset += Math.min(chunk.length, room);
          return true;
        },
        end: () => this.push({ k: "f", p: path, m: mode, t, o: start, n: offset - start }, name),
      };
    }
    this.push({ k: "o", p: path, m: mode }, name);
    return {
      write: (chunk) => {
        let from = 0;
        while (from < chunk.length) {
          if (this.buffer === null || this.used === this.buffer.length) {
            this.flush();
            this.buffer = this.newBuffer();
          }
          const length = Math.min(chunk.length - from, this.buffer.length - this.used);
          chunk.copy(this.buffer, this.used, from, from + length);
          this.push({ k: "w", o: this.used, n: length }, name);
          this.used += length;
          from += length;
        }
        return !this.congested;
      },
      end: () => this.push({ k: "z", t }, name),
    };
  }

  /** Between entries: hand the batch over when the thread is idle (keeps it busy) or the batch is big. */
  entryDone(): void {
    if (this.ops.length === 0) return;
    if (this.inFlight.size === 0 || this.ops.length >= MAX_BATCH_OPS || (this.buffer !== null && this.used >= this.buffer.length)) {
      this.flush();
    }
  }

  /** Send what is queued and wait until the thread has done all of it. Throws the first failure. */
  async finish(): Promise<void> {
    this.flush();
    while (this.inFlight.size > 0 && this.error === null) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (this.error) throw this.error;
  }

  /** Stop the thread. After this resolves nothing more is written (an operation in progress completes first). */
  async close(): Promise<void> {
    this.closing = true;
    await this.worker.terminate();
    this.wake();
  }

  private push(op: Op, name: string): void {
    this.ops.push(op);
    this.names.push(name);
  }

  private newBuffer(): Buffer {
    const spare = this.spare.pop();
    return spare ? Buffer.from(spare) : Buffer.allocUnsafeSlow(BATCH_BYTES);
  }

  private flush(): void {
    if (this.ops.length === 0) return;
    const id = this.nextId++;
    const data = this.buffer === null ? null : (this.buffer.buffer as ArrayBuffer);
    const bytes = this.buffer?.length ?? 0;
    if (this.error === null) {
      this.worker.postMessage({ id, ops: this.ops, data }, data ? [data] : []);
      this.inFlight.set(id, { names: this.names, bytes });
      this.inFlightBytes += bytes;
    }
    this.ops = [];
    this.names = [];
    this.buffer = null;
    this.used = 0;
  }

  private received(reply: Reply): void {
    const batch = this.inFlight.get(reply.id);
    this.inFlight.delete(reply.id);
    if (batch) this.inFlightBytes -= batch.bytes;
    if (reply.data && this.spare.length < 4) this.spare.push(reply.data);
    if (reply.error) {
      const { message, code, index } = reply.error;
      this.fail(new EntryWriteError(batch?.names[index], message, code));
    }
    this.wake();
  }

  private fail(error: Error): void {
    if (this.error !== null) return;
    this.error = error;
    this.onError(error);
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}

/**
 * The writer thread. Plain JavaScript, evaluated as a script (so it runs the
 * same from src/ under vitest and from build/): it imports only Node builtins.
 * Files are created with O_EXCL | O_NOFOLLOW, so a name that exists (or is a
 * symbolic link) is never written through; the unpacker removes what it
 * replaces first.
 */
const WORKER_SOURCE = `"use strict";
(async () => {
  const fs = await import("node:fs");
  const { parentPort, workerData } = await import("node:worker_threads");
  const root = workerData.root;
  const C = fs.constants;
  const FLAGS = C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW;
  const at = (p) => (p === "" ? root : root + "/" + p);
  let fd = -1;
  let failed = false;
  const writeAll = (data, offset, length) => {
    while (length > 0) {
      const n = fs.writeSync(fd, data, offset, length);
      offset += n;
      length -= n;
    }
  };
  const closeFile = (t) => {
    if (t >= 0) fs.futimesSync(fd, t, t);
    const f = fd;
    fd = -1;
    fs.closeSync(f);
  };
  parentPort.on("message", (msg) => {
    if (failed) {
      parentPort.postMessage({ id: msg.id, data: null });
      return;
    }
    const data = msg.data === null ? null : Buffer.from(msg.data);
    const ops = msg.ops;
    let i = 0;
    try {
      for (; i < ops.length; i++) {
        const op = ops[i];
        switch (op.k) {
          case "f":
            fd = fs.openSync(at(op.p), FLAGS, op.m);
            writeAll(data, op.o, op.n);
            closeFile(op.t);
            break;
          case "o": fd = fs.openSync(at(op.p), FLAGS, op.m); break;
          case "w": writeAll(data, op.o, op.n); break;
          case "z": closeFile(op.t); break;
          case "d": fs.mkdirSync(at(op.p), op.m); break;
          case "c": fs.chmodSync(at(op.p), op.m); break;
          case "u": fs.unlinkSync(at(op.p)); break;
          case "s": fs.symlinkSync(op.x, at(op.p)); break;
          case "l": fs.linkSync(at(op.x), at(op.p)); break;
          default: throw new Error("unknown writer operation " + op.k);
        }
      }
      parentPort.postMessage({ id: msg.id, data: msg.data }, msg.data === null ? [] : [msg.data]);
    } catch (error) {
      failed = true;
      if (fd >= 0) {
        try { fs.closeSync(fd); } catch {}
        fd = -1;
      }
      parentPort.postMessage({
        id: msg.id,
        data: null,
        error: { message: String(error && error.message), code: error && error.code, index: i },
      });
    }
  });
})();
`;

import { chmod, mkdir } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

/**
 * The write side of unpacking.
 *
 * Folders are made by the main thread (async, awaited, so they exist before
 * anything is queued into them). Files, symbolic links, hard links and
 * removals are operations queued to a few writer threads that perform them
 * with plain synchronous calls; all operations in one folder go to the same
 * thread, in archive order, so a replacement always follows what it replaces.
 *
 * Why threads: with one libuv thread-pool round trip per open/write/close, a
 * 10,000-file archive spent most of its time in hand-offs (about 5x slower
 * than `tar -x` on tmpfs); synchronous calls on the main thread would stall
 * the event loop (progress, signals, the deploy lock). Writer threads keep the
 * event loop free, overlap parsing with writing, and run folders in parallel.
 * Operations travel in batches, compactly encoded (kinds in a string, names
 * NUL-joined, numbers in a Float64Array) with the file data copied once into
 * a transferred buffer; buffers come back with the reply and are reused.
 *
 * Memory: at most MAX_QUEUED_BYTES of batches per thread are queued; past
 * that, `congested` is true and the caller waits on `room()`.
 */

const BATCH_BYTES = 1024 * 1024;
const MAX_BATCH_OPS = 1024;
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;
/** Files up to this size travel whole in one batch; larger ones are streamed through in pieces. */
const WHOLE_FILE_BYTES = 256 * 1024;
const THREADS = Math.max(1, Math.min(2, availableParallelism()));

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

interface Reply {
  id: number;
  data: ArrayBuffer | null;
  error?: { message: string; code: string | undefined; index: number };
}

/** The writers for one deploy folder. Paths are relative to it, "/"-separated. */
export class TreeWriter {
  /** The first failure (thread error or failed operation); nothing more is queued after it. */
  error: Error | null = null;
  /** Called once, with the first failure. */
  onError: (error: Error) => void = () => undefined;

  private readonly threads: WriterThread[] = [];
  private readonly folderThread = new Map<string, WriterThread>();
  private nextThread = 0;
  private waiters: Array<() => void> = [];

  constructor(
    private readonly root: string,
    threads = THREADS,
  ) {
    for (let i = 0; i < threads; i++) this.threads.push(new WriterThread(root, (error) => this.fail(error), () => this.wake()));
  }

  get congested(): boolean {
    return this.error === null && this.threads.some((thread) => thread.congested);
  }

  /** Resolves when more may be queued (or the writer failed: check `error`). */
  async room(): Promise<void> {
    while (this.congested) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Make a folder now (its parent exists). `replace`: a non-folder is there, remove it first. */
  async mkdir(path: string, mode: number, name: string, replace: boolean): Promise<void> {
    if (replace) await this.removeNow(path, name);
    await this.now(() => mkdir(this.abs(path), { mode }), name);
  }

  /** Set an existing folder's mode now. */
  async chmod(path: string, mode: number, name: string): Promise<void> {
    await this.now(() => chmod(this.abs(path), mode), name);
  }

  /** A new regular file of `size` bytes (replacing what is at `path` when `replace`); its data goes through the sink. */
  file(path: string, mode: number, mtime: Date | undefined, size: number, name: string, replace: boolean): FileSink {
    const thread = this.threadFor(path);
    if (replace) thread.op("u", path, null, name);
    const t = mtime instanceof Date && !Number.isNaN(mtime.getTime()) ? mtime.getTime() / 1000 : -1;
    return thread.file(path, mode, t, size, name);
  }

  symlink(target: string, path: string, name: string, replace: boolean): void {
    const thread = this.threadFor(path);
    if (replace) thread.op("u", path, null, name);
    thread.op("s", path, target, name);
  }

  /** Hard link `path` to the earlier regular file `existing`. */
  async link(existing: string, path: string, name: string, replace: boolean): Promise<void> {
    const source = this.threadFor(existing);
    const thread = this.threadFor(path);
    if (source !== thread) await this.settle(source); // the target is made by another thread: wait until it is
    if (replace) thread.op("u", path, null, name);
    thread.op("l", path, existing, name);
  }

  /** Between entries: hand batches over to idle threads (keeps them busy) or when they are big. */
  entryDone(): void {
    for (const thread of this.threads) thread.maybeFlush();
  }

  /** Send everything queued and wait until it is done. Throws the first failure. */
  async finish(): Promise<void> {
    await Promise.all(this.threads.map((thread) => this.settle(thread)));
    if (this.error) throw this.error;
  }

  /** Stop the threads. Once this resolves nothing more is written (an operation in progress completes first). */
  async close(): Promise<void> {
    await Promise.all(this.threads.map((thread) => thread.close()));
    this.wake();
  }

  private threadFor(path: string): WriterThread {
    const slash = path.lastIndexOf("/");
    const folder = slash < 0 ? "" : path.slice(0, slash);
    let thread = this.folderThread.get(folder);
    if (thread === undefined) {
      thread = this.threads[this.nextThread++ % this.threads.length]!;
      this.folderThread.set(folder, thread);
    }
    return thread;
  }

  private async removeNow(path: string, name: string): Promise<void> {
    const thread = this.threadFor(path);
    thread.op("u", path, null, name);
    await this.settle(thread);
    if (this.error) throw this.error;
  }

  private async settle(thread: WriterThread): Promise<void> {
    thread.flush();
    while (thread.busy && this.error === null) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private async now(action: () => Promise<unknown>, name: string): Promise<void> {
    if (this.error) throw this.error;
    try {
      await action();
    } catch (error) {
      const failure = new EntryWriteError(name, (error as Error).message, (error as NodeJS.ErrnoException).code);
      this.fail(failure);
      throw failure;
    }
  }

  private abs(path: string): string {
    return path === "" ? this.root : `${this.root}/${path}`;
  }

  private fail(error: Error): void {
    if (this.error !== null) return;
    this.error = error;
    for (const thread of this.threads) thread.stopQueueing();
    this.onError(error);
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** One writer thread and the batch being filled for it. */
class WriterThread {
  private readonly worker: Worker;
  private kinds = "";
  private strings: string[] = [];
  private nums: number[] = [];
  private names: string[] = [];
  private buffer: Buffer | null = null;
  private used = 0;
  private nextId = 1;
  private readonly inFlight = new Map<number, { names: string[]; bytes: number }>();
  private queuedBytes = 0;
  private readonly spare: ArrayBuffer[] = [];
  private stopped = false;
  private closing = false;

  constructor(
    root: string,
    private readonly fail: (error: Error) => void,
    private readonly progressed: () => void,
  ) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { root } });
    this.worker.on("message", (reply: Reply) => this.received(reply));
    this.worker.on("error", (error) => this.fail(new EntryWriteError(undefined, `a writer thread failed: ${error.message}`, undefined)));
    this.worker.on("exit", (code) => {
      if (!this.closing) this.fail(new EntryWriteError(undefined, `a writer thread exited early (code ${code})`, undefined));
      this.inFlight.clear();
      this.progressed();
    });
  }

  get congested(): boolean {
    return this.queuedBytes >= MAX_QUEUED_BYTES;
  }

  get busy(): boolean {
    return this.inFlight.size > 0;
  }

  /** u (remove), s (symlink path -> other), l (hard link path -> other). */
  op(kind: "u" | "s" | "l", path: string, other: string | null, name: string): void {
    this.kinds += kind;
    this.strings.push(path);
    if (other !== null) this.strings.push(other);
    this.names.push(name);
  }

  file(path: string, mode: number, t: number, size: number, name: string): FileSink {
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
          const length = Math.min(chunk.length, start + size - offset);
          chunk.copy(buffer, offset, 0, length);
          offset += length;
          return true;
        },
        end: () => {
          this.kinds += "f";
          this.strings.push(path);
          this.nums.push(mode, t, start, offset - start);
          this.names.push(name);
        },
      };
    }
    this.kinds += "o";
    this.strings.push(path);
    this.nums.push(mode);
    this.names.push(name);
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
          this.kinds += "w";
          this.nums.push(this.used, length);
          this.names.push(name);
          this.used += length;
          from += length;
        }
        return !this.congested;
      },
      end: () => {
        this.kinds += "z";
        this.nums.push(t);
        this.names.push(name);
      },
    };
  }

  maybeFlush(): void {
    if (this.kinds.length === 0) return;
    if (this.inFlight.size === 0 || this.kinds.length >= MAX_BATCH_OPS || (this.buffer !== null && this.used === this.buffer.length)) {
      this.flush();
    }
  }

  flush(): void {
    if (this.kinds.length === 0) return;
    const data = this.buffer === null ? null : (this.buffer.buffer as ArrayBuffer);
    const bytes = this.buffer?.length ?? 0;
    if (!this.stopped) {
      const id = this.nextId++;
      const nums = new Float64Array(this.nums);
      const transfer: ArrayBuffer[] = [nums.buffer as ArrayBuffer];
      if (data) transfer.push(data);
      this.worker.postMessage({ id, kinds: this.kinds, strings: this.strings.join("\0"), nums, data }, transfer);
      this.inFlight.set(id, { names: this.names, bytes });
      this.queuedBytes += bytes;
    }
    this.kinds = "";
    this.strings = [];
    this.nums = [];
    this.names = [];
    this.buffer = null;
    this.used = 0;
  }

  /** After a failure: queue nothing more (the thread itself also stops at its first error). */
  stopQueueing(): void {
    this.stopped = true;
  }

  async close(): Promise<void> {
    this.closing = true;
    this.stopped = true;
    await this.worker.terminate();
  }

  private newBuffer(): Buffer {
    const spare = this.spare.pop();
    return spare ? Buffer.from(spare) : Buffer.allocUnsafeSlow(BATCH_BYTES);
  }

  private received(reply: Reply): void {
    const batch = this.inFlight.get(reply.id);
    this.inFlight.delete(reply.id);
    if (batch) this.queuedBytes -= batch.bytes;
    if (reply.data && reply.data.byteLength === BATCH_BYTES && this.spare.length < 4) this.spare.push(reply.data);
    if (reply.error) {
      const { message, code, index } = reply.error;
      this.fail(new EntryWriteError(batch?.names[index], message, code));
    }
    this.progressed();
  }
}

/**
 * The writer thread. Plain JavaScript evaluated as a script, so it runs the
 * same from src/ (vitest) and from build/; it imports only Node builtins.
 * Files are created with O_EXCL | O_NOFOLLOW: a name that exists (or is a
 * symbolic link) is never written through; replacements are removed first.
 * After its first error it performs nothing more.
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
    const transfer = msg.data === null ? [] : [msg.data];
    if (failed) {
      parentPort.postMessage({ id: msg.id, data: msg.data }, transfer);
      return;
    }
    const data = msg.data === null ? null : Buffer.from(msg.data);
    const kinds = msg.kinds;
    const strings = msg.strings.split("\\0");
    const nums = msg.nums;
    let s = 0;
    let n = 0;
    let i = 0;
    try {
      for (; i < kinds.length; i++) {
        switch (kinds[i]) {
          case "f":
            fd = fs.openSync(at(strings[s++]), FLAGS, nums[n]);
            writeAll(data, nums[n + 2], nums[n + 3]);
            closeFile(nums[n + 1]);
            n += 4;
            break;
          case "o": fd = fs.openSync(at(strings[s++]), FLAGS, nums[n++]); break;
          case "w": writeAll(data, nums[n], nums[n + 1]); n += 2; break;
          case "z": closeFile(nums[n++]); break;
          case "u": fs.unlinkSync(at(strings[s++])); break;
          case "s": fs.symlinkSync(strings[s + 1], at(strings[s])); s += 2; break;
          case "l": fs.linkSync(at(strings[s + 1]), at(strings[s])); s += 2; break;
          default: throw new Error("unknown writer operation " + kinds[i]);
        }
      }
      parentPort.postMessage({ id: msg.id, data: msg.data }, transfer);
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

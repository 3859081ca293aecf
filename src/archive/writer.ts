import { Worker } from "node:worker_threads";

/**
 * The write side of unpacking. Every file system change (folders, files,
 * links, removals) is an operation queued, in archive order, to one writer
 * thread that performs it with plain synchronous calls. Order is kept by
 * construction: a folder exists before anything in it, a hard link follows
 * its target, a replacement follows what it replaces.
 *
 * Why a thread: with one libuv thread-pool round trip per open/write/close, a
 * 10,000-file archive spent most of its time in hand-offs (about 5x slower
 * than `tar -x` on tmpfs); synchronous calls on the main thread would stall
 * the event loop (progress, signals, the deploy lock). The writer thread keeps
 * the event loop free and overlaps parsing with writing. (Two writer threads,
 * split by folder, measured slower on the 2-core test machine, so one it is.)
 * Operations travel in batches, compactly encoded (kinds in a string, names
 * NUL-joined, numbers in a Float64Array) with the file data copied once into
 * a transferred buffer; buffers come back with the reply and are reused.
 *
 * Memory: at most MAX_QUEUED_BYTES of batches are queued; past that,
 * `congested` is true and the caller waits on `room()`.
 */

const BATCH_BYTES = 1024 * 1024;
const MAX_BATCH_OPS = 1024;
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;
/** Files up to this size travel whole in one batch; larger ones are streamed through in pieces. */
const WHOLE_FILE_BYTES = 256 * 1024;

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

/** The writer for one deploy folder. Paths are relative to it, "/"-separated. */
export class TreeWriter {
  /** The first failure (thread error or failed operation); nothing more is queued after it. */
  error: Error | null = null;
  /** Called once, with the first failure. */
  onError: (error: Error) => void = () => undefined;

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
  private waiters: Array<() => void> = [];
  private closing = false;

  constructor(root: string) {
    // trackUnmanagedFds (Node's default, stated here because we rely on it): a file the thread has
    // open when it is terminated mid-write is closed by Node, not leaked.
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { root }, trackUnmanagedFds: true });
    this.worker.on("message", (reply: Reply) => this.received(reply));
    this.worker.on("error", (error) => this.fail(new EntryWriteError(undefined, `the writer thread failed: ${error.message}`, undefined)));
    this.worker.on("exit", (code) => {
      if (!this.closing) this.fail(new EntryWriteError(undefined, `the writer thread exited early (code ${code})`, undefined));
      this.inFlight.clear();
      this.wake();
    });
  }

  /** Too much is queued: wait for `room()` before queueing more. */
  get congested(): boolean {
    return this.queuedBytes >= MAX_QUEUED_BYTES && this.error === null;
  }

  /** Resolves when more may be queued (or the writer failed: check `error`). */
  async room(): Promise<void> {
    while (this.congested) await this.progress();
  }

  mkdir(path: string, mode: number, name: string): void {
    this.push("d", name, path);
    this.nums.push(mode);
  }

  chmod(path: string, mode: number, name: string): void {
    this.push("c", name, path);
    this.nums.push(mode);
  }

  unlink(path: string, name: string): void {
    this.push("u", name, path);
  }

  symlink(target: string, path: string, name: string): void {
    this.push("s", name, path, target);
  }

  /** Hard link `path` to the earlier regular file `existing`. */
  link(existing: string, path: string, name: string): void {
    this.push("l", name, path, existing);
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
          const length = Math.min(chunk.length, start + size - offset);
          chunk.copy(buffer, offset, 0, length);
          offset += length;
          return true;
        },
        end: () => {
          this.push("f", name, path);
          this.nums.push(mode, t, start, offset - start);
        },
      };
    }
    this.push("o", name, path);
    this.nums.push(mode);
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
          this.push("w", name);
          this.nums.push(this.used, length);
          this.used += length;
          from += length;
        }
        return !this.congested;
      },
      end: () => {
        this.push("z", name);
        this.nums.push(t);
      },
    };
  }

  /** Between entries: hand the batch over when the thread is idle (keeps it busy) or the batch is big. */
  entryDone(): void {
    if (this.kinds.length === 0) return;
    if (this.inFlight.size === 0 || this.kinds.length >= MAX_BATCH_OPS || (this.buffer !== null && this.used === this.buffer.length)) {
      this.flush();
    }
  }

  /** Send everything queued and wait until the thread has done it. Throws the first failure. */
  async finish(): Promise<void> {
    this.flush();
    while (this.inFlight.size > 0 && this.error === null) await this.progress();
    if (this.error) throw this.error;
  }

  /** Stop the thread. Once this resolves nothing more is written (an operation in progress completes first). */
  async close(): Promise<void> {
    this.closing = true;
    await this.worker.terminate();
    this.wake();
  }

  private push(kind: string, name: string, path?: string, other?: string): void {
    this.kinds += kind;
    this.names.push(name);
    if (path !== undefined) this.strings.push(path);
    if (other !== undefined) this.strings.push(other);
  }

  private newBuffer(): Buffer {
    const spare = this.spare.pop();
    return spare ? Buffer.from(spare) : Buffer.allocUnsafeSlow(BATCH_BYTES);
  }

  private flush(): void {
    if (this.kinds.length === 0) return;
    const data = this.buffer === null ? null : (this.buffer.buffer as ArrayBuffer);
    const bytes = this.buffer?.length ?? 0;
    if (this.error === null && !this.closing) {
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

  private received(reply: Reply): void {
    const batch = this.inFlight.get(reply.id);
    this.inFlight.delete(reply.id);
    if (batch) this.queuedBytes -= batch.bytes;
    if (reply.data && reply.data.byteLength === BATCH_BYTES && this.spare.length < 4) this.spare.push(reply.data);
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

  private progress(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}

/**
 * The writer thread. Plain JavaScript evaluated as a script, so it runs the
 * same from src/ (vitest) and from build/; it imports only Node builtins.
 * Files are created with O_EXCL | O_NOFOLLOW: a name that exists (or is a
 * symbolic link) is never written through; replacements are removed first.
 * Operations: f whole file, o/w/z open/write/close a streamed file, d mkdir,
 * c chmod, u unlink, s symlink, l hard link.
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
          case "d": fs.mkdirSync(at(strings[s++]), nums[n++]); break;
          case "c": fs.chmodSync(at(strings[s++]), nums[n++]); break;
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

import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../util/atomic-file.js";

/** How long a delivery id is remembered: GitHub's redeliveries come within days. */
export const deliveryMemoryMs = 7 * 24 * 3_600_000;
const pruneEveryMs = 3_600_000;

/** GitHub's X-GitHub-Delivery is a GUID; anything else never becomes a file name. */
export const deliveryIdPattern = /^[A-Za-z0-9][A-Za-z0-9-]{0,127}$/;

export type Claim = { first: true } | { first: false; release: number | null };

/**
 * The X-GitHub-Delivery ids seen in the last 7 days, one file each under
 * `dir`. A claim creates the file with O_EXCL, so of two identical deliveries
 * arriving at once (or a redelivery) exactly one deploys.
 */
export class DeliveryLog {
  private lastPrune = 0;

  constructor(
    private readonly dir: string,
    private readonly now: () => number = Date.now,
  ) {}

  claim(id: string): Claim {
    if (!deliveryIdPattern.test(id)) throw new Error(`not a delivery id: ${JSON.stringify(id)}`);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.prune();
    let fd: number;
    try {
      fd = openSync(this.file(id), "wx", 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      return { first: false, release: this.release(id) };
    }
    try {
      writeSync(fd, JSON.stringify({ receivedAt: new Date(this.now()).toISOString(), release: null }));
    } finally {
      closeSync(fd);
    }
    return { first: true };
  }

  /** The release a claimed delivery queued, for the "duplicate" answer to a redelivery. */
  setRelease(id: string, release: number): void {
    writeFileAtomic(this.file(id), JSON.stringify({ receivedAt: new Date(this.now()).toISOString(), release }), 0o600);
  }

  /** Drops a claim whose deploy could not be queued, so GitHub's "Redeliver" can try again. */
  forget(id: string): void {
    rmSync(this.file(id), { force: true });
  }

  private release(id: string): number | null {
    try {
      const record = JSON.parse(readFileSync(this.file(id), "utf8")) as { release?: unknown };
      return typeof record.release === "number" ? record.release : null;
    } catch {
      return null; // claimed a moment ago by the other copy of this delivery, not yet written
    }
  }

  private prune(): void {
    const now = this.now();
    if (now - this.lastPrune < pruneEveryMs) return;
    this.lastPrune = now;
    for (const name of readdirSync(this.dir)) {
      const path = join(this.dir, name);
      try {
        if (now - statSync(path).mtimeMs > deliveryMemoryMs) rmSync(path, { force: true });
      } catch {
        // removed meanwhile by another pruner
      }
    }
  }

  private file(id: string): string {
    return join(this.dir, `${id}.json`);
  }
}

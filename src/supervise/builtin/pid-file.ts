import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";

/** Either the file is ours (release it on exit), or a live daemon holds it. */
export type PidFileResult = { acquired: true; release(): void } | { acquired: false; holder: number };

/**
 * Takes var/run/supervisor.pid for this process, created exclusively. A file
 * left by a dead daemon is taken over; one naming a live `supervisord`
 * process is not.
 */
export function acquirePidFile(file: string): PidFileResult {
  // A few rounds: another daemon may be racing for the same stale file.
  for (let round = 0; round < 5; round++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: "wx", mode: 0o644 });
      return { acquired: true, release: () => releasePidFile(file) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const content = readOrNull(file);
    if (content === null) continue;
    const holder = Number.parseInt(content, 10);
    if (isLiveDaemon(holder)) return { acquired: false, holder };
    takeOverStale(file, content);
  }
  throw new Error(`could not take ${file}: other daemons keep racing for it`);
}

/**
 * Removes a stale file without ever removing a fresh one a racing daemon just
 * wrote: move it aside atomically, and put it back if it is not the one judged stale.
 */
function takeOverStale(file: string, staleContent: string): void {
  const aside = `${file}.stale-${process.pid}`;
  try {
    renameSync(file, aside);
  } catch {
    return; // someone else moved it first
  }
  if (readOrNull(aside) !== staleContent) {
    try {
      linkSync(aside, file);
    } catch {
      // yet another daemon created the file meanwhile; it holds it now
    }
  }
  unlinkSync(aside);
}

function releasePidFile(file: string): void {
  if (readOrNull(file) === `${process.pid}\n`) unlinkSync(file);
}

/** The pid is alive and is a supervisor daemon (not an unrelated process that got the pid after a reboot). */
function isLiveDaemon(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  const cmdline = readOrNull(`/proc/${pid}/cmdline`);
  return cmdline !== null && cmdline.split("\0").includes("supervisord");
}

function readOrNull(file: string): string | null {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return null;
  }
}

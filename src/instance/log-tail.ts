import { closeSync, openSync, readSync, statSync } from "node:fs";

/** The last `lines` lines of a file (reads at most the last 64 KiB); "" if it does not exist. */
export function tailFile(path: string, lines: number): string {
  if (lines <= 0) return "";
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return "";
  }
  try {
    const size = statSync(path).size;
    const length = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    const all = buffer.toString("utf8").split("\n");
    if (all.at(-1) === "") all.pop();
    return all.slice(-lines).join("\n");
  } finally {
    closeSync(fd);
  }
}

import { appendFileSync, closeSync, constants, openSync } from "node:fs";
import { SargeError } from "./errors.js";

/**
 * Open `path` to append, created with `mode` if missing, never through a
 * symbolic link: a home's owner could link its logs to a file only root may
 * write, and have a root-run command append to it.
 */
export function openForAppend(path: string, mode: number): number {
  try {
    return openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ELOOP") throw linkRefusal(path);
    throw error;
  }
}

export function appendToFile(path: string, text: string, mode: number): void {
  const fd = openForAppend(path, mode);
  try {
    appendFileSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

export function linkRefusal(path: string): SargeError {
  return new SargeError(`${path} is a symbolic link: sarge never writes through a link inside a home; remove it (sarge creates the file again)`);
}

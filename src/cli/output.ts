import { isDiskFull, SargeError } from "../util/errors.js";
import { withSargeVersion } from "../util/version.js";

/** Print an error as one sentence plus detail, never a stack (unless SARGE_DEBUG). Returns the exit code. */
export function reportError(error: unknown): number {
  if (error instanceof SargeError) {
    process.stderr.write(`sarge: ${error.message}\n`);
    if (error.detail) process.stderr.write(indent(error.detail) + "\n");
    if (process.env.SARGE_DEBUG && error.stack) process.stderr.write(error.stack + "\n");
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  if (isDiskFull(error)) {
    process.stderr.write(`sarge: the disk is full: ${message}\n  Free space (df -h shows where) and run the command again.\n`);
    return new SargeError("").exitCode;
  }
  process.stderr.write(`sarge: unexpected error: ${message}\n`);
  if (error instanceof Error && error.stack) process.stderr.write(indent(error.stack) + "\n");
  return 70;
}

/**
 * Every --json output carries the `sarge_version` that wrote it: first in an
 * object, and in each element of a list (list, history, status print lists).
 */
export function printJson(value: object): void {
  process.stdout.write(JSON.stringify(withSargeVersion(value), null, 2) + "\n");
}

function indent(text: string): string {
  return text
    .trimEnd()
    .split("\n")
    .map((line) => "  " + line)
    .join("\n");
}

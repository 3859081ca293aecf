/**
 * Errors a user can hit. Each carries one human sentence (`message`), optional
 * detail lines, and the exit code the CLI uses; the CLI prints them without a stack.
 */
export class SargeError extends Error {
  readonly detail: string | undefined;
  readonly exitCode: number;

  constructor(message: string, options: { detail?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.detail = options.detail;
    this.exitCode = options.exitCode ?? 1;
  }
}

/** Bad or missing etc/sarge.yaml, or bad command-line input: exit code 2. */
export class ConfigError extends SargeError {
  constructor(message: string, options: { detail?: string; cause?: unknown } = {}) {
    super(message, { ...options, exitCode: 2 });
  }
}

/** The supervisor daemon cannot be reached. */
export class SupervisorNotRunningError extends SargeError {
  constructor(home: string) {
    super(`supervisor is not running; start it with ${home}/bin/supervisord`, { exitCode: 3 });
  }
}

/** A release failed at one of its named steps; the message names the release and the step ("rollback failed at start: …"). */
export class ReleaseError extends SargeError {
  readonly step: string;

  constructor(release: string, step: string, reason: string, options: { detail?: string; cause?: unknown } = {}) {
    super(`${release} failed at ${step}: ${reason}`, options);
    this.step = step;
  }
}

/** A release stopped by a cancel before its switch, and undone: exit code 5. */
export class ReleaseCancelledError extends SargeError {
  readonly step: string;

  constructor(release: string, step: string) {
    super(`${release} cancelled at ${step}`, { detail: "Nothing was switched: the running version is untouched, and what the release had made is removed.", exitCode: 5 });
    this.step = step;
  }
}

/** ENOSPC, or EDQUOT (the user's quota): either way nothing more can be written there. */
export function isDiskFull(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOSPC" || code === "EDQUOT";
}

/** A write failed because the disk (or quota) is full: says where, what failed, and what was kept. */
export class DiskFullError extends SargeError {
  constructor(dir: string, failed: string, kept: string, cause: unknown) {
    super(`the disk holding ${dir} is full (${(cause as NodeJS.ErrnoException).code}): ${failed}; ${kept}`, {
      detail: "Free space there (df -h shows how much is left) and run the command again.",
      cause,
    });
  }
}

import type { SargeLog } from "./sarge-log.js";

/** What a long operation tells its user as it goes; every line also lands in sarge.log. */
export interface Reporter {
  /** A lasting line: a step finished or began. */
  line(text: string): void;
  /** A transient progress line: redrawn in place on a terminal, throttled plain lines otherwise. */
  progress(text: string): void;
}

/**
 * On a TTY progress redraws one line; elsewhere (ssh without -t, CI, files)
 * every line is plain and timestamped, and progress at most every 2 s.
 */
export function terminalReporter(log: SargeLog, stream: NodeJS.WriteStream = process.stderr): Reporter {
  const tty = stream.isTTY === true;
  let transient = false;
  // plain progress only for steps that last: the first line comes after one interval
  let lastPlainProgress = Date.now();
  const clear = () => {
    if (transient) stream.write("\r\x1b[2K");
    transient = false;
  };
  return {
    line(text) {
      log.info(text);
      clear();
      stream.write(tty ? `${text}\n` : `${new Date().toISOString()} ${text}\n`);
    },
    progress(text) {
      if (tty) {
        clear();
        stream.write(text);
        transient = true;
      } else if (Date.now() - lastPlainProgress >= 2000) {
        lastPlainProgress = Date.now();
        stream.write(`${new Date().toISOString()} ${text}\n`);
      }
    },
  };
}

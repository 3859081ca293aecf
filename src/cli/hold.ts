import type { Command } from "commander";
import { ConfigError } from "../util/errors.js";
import { resolveHome } from "./context.js";

const ENDING_SIGNALS: NodeJS.Signals[] = ["SIGTERM", "SIGINT", "SIGHUP"];

export function registerHold(program: Command): void {
  program
    .command("hold")
    .description(
      "take the home's deploy lock and hold it until standard input closes (the ssh session ends) or sarge is stopped; prints `held <token>`: commands run with SARGE_LOCK_TOKEN=<token> use the lock as their own meanwhile",
    )
    .option("--wait-lock <seconds>", "wait at most this long for another holder (default: as long as it takes); then fail, naming the holder")
    .action(async (options: { waitLock?: string }, command: Command) => {
      const waitMs = options.waitLock === undefined ? undefined : seconds(options.waitLock) * 1000;
      const { holdHomeLock } = await import("../release/hold.js");
      await holdHomeLock(resolveHome(command), {
        waitMs,
        held: (token) => process.stdout.write(`held ${token}\n`),
        until: sessionEnd(),
        say: (line) => process.stderr.write(`${line}\n`),
      });
    });
}

function seconds(text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value < 0) throw new ConfigError(`--wait-lock: expected a number of seconds, got "${text}"`);
  return value;
}

/** Resolves when standard input ends (the session that runs `sarge hold` closed) or a signal asks sarge to stop. */
function sessionEnd(): Promise<void> {
  return new Promise((resolve) => {
    const end = () => {
      for (const signal of ENDING_SIGNALS) process.off(signal, end);
      process.stdin.off("end", end).off("close", end).off("error", end);
      process.stdin.destroy();
      resolve();
    };
    for (const signal of ENDING_SIGNALS) process.once(signal, end);
    process.stdin.once("end", end).once("close", end).once("error", end);
    process.stdin.resume();
  });
}

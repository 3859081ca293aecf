import type { Command } from "commander";
import { createInterface } from "node:readline";
import type { HomePaths } from "../home/paths.js";
import { ConfigError } from "../util/errors.js";
import { resolveHome } from "./context.js";

const ENDING_SIGNALS: NodeJS.Signals[] = ["SIGTERM", "SIGINT", "SIGHUP"];

export function registerHold(program: Command): void {
  program
    .command("hold")
    .description(
      "take the home's deploy lock and hold it until standard input closes (the ssh session ends) or sarge is stopped; prints `held <token> prepares runs list activate verify`: commands run with SARGE_LOCK_TOKEN=<token> use the lock as their own meanwhile, and each JSON request line on standard input is run under it, its reply one line on standard output (an activate asked for it says `switched` first, and `activated ok|failed` when it ends; a prepared one waits for a line `go` or `abort` before its switch) (a fleet push's list, activate and verify, docs/fleet-primitives.md)",
    )
    .option("--wait-lock <seconds>", "wait at most this long for another holder (default: as long as it takes); then fail, naming the holder")
    .action(async (options: { waitLock?: string }, command: Command) => {
      const waitMs = options.waitLock === undefined ? undefined : seconds(options.waitLock) * 1000;
      const paths = resolveHome(command);
      const [{ holdHomeLock }, { HELD_COMMANDS, HELD_PREPARES }] = await Promise.all([import("../release/hold.js"), import("../release/hold-protocol.js")]);
      const session = holdSession(paths);
      await holdHomeLock(paths, {
        waitMs,
        held: (token) => {
          process.stdout.write(`held ${token} ${HELD_PREPARES} ${HELD_COMMANDS}\n`);
          session.serve(token);
        },
        until: session.ended,
        say: (line) => process.stderr.write(`${line}\n`),
      });
    });
}

function seconds(text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value < 0) throw new ConfigError(`--wait-lock: expected a number of seconds, got "${text}"`);
  return value;
}

/**
 * Standard input of the hold: its request lines, run one after the other once
 * serve() is called (the lock is held; what runs them is loaded then, while
 * the push stages), and its end. An activation that answers `switched` lets
 * the next request run meanwhile (hold-protocol.ts). `ended` resolves when
 * standard input ends (the session that runs `sarge hold` closed) or a signal
 * asks sarge to stop, once every request under way has finished (one
 * waiting before its switch is aborted): an activation is never left
 * half-done with the lock released under it.
 */
function holdSession(paths: HomePaths) {
  let serving: (token: string) => void = () => undefined;
  const held = new Promise<string>((resolve) => (serving = resolve));
  const runner = held.then(() => import("../release/held-requests.js"));
  let queue: Promise<unknown> = runner;
  let running: Promise<unknown> = runner;
  const say = (line: string) => void process.stdout.write(`${line}\n`);
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  lines.on("line", (line) => {
    if (line.trim() === "") return;
    // `go` and `abort` are for the activation under way: never queued behind it
    void runner.then(({ goAhead }) => {
      if (goAhead(line)) return;
      queue = queue.then(async () => {
        let answeredEarly: () => void = () => undefined;
        const early = new Promise<void>((resolve) => (answeredEarly = resolve));
        const request = (await runner).runHeldRequest(paths, await held, line, (answer, inTurn) => {
          say(answer);
          if (inTurn) answeredEarly();
        });
        running = Promise.all([running, request.then(say)]);
        await Promise.race([early, request]);
      });
    });
  });
  const ended = new Promise<void>((resolve) => {
    const end = () => {
      for (const signal of ENDING_SIGNALS) process.off(signal, end);
      lines.off("close", end);
      process.stdin.destroy();
      resolve();
    };
    for (const signal of ENDING_SIGNALS) process.once(signal, end);
    lines.once("close", end);
  });
  return {
    serve: (token: string) => serving(token),
    ended: ended.then(async () => {
      // an activation left waiting for its go is cancelled: the push that would say it is gone
      (await runner).goAhead("abort");
      await queue;
      await running;
    }),
  };
}

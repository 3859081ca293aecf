import { spawn } from "node:child_process";
import { constants } from "node:os";
import { shellQuote } from "../util/shell-quote.js";
import type { OpenHome } from "../home/open.js";
import { instanceDir, instanceEnvironment } from "./env.js";
import { readState } from "./state.js";
import { resolveTarget } from "./target.js";

/**
 * One argument is a command line for the shell, as ssh and `heroku run` take
 * it (`sarge run web 'echo $PORT'`); several are words passed verbatim, as
 * honcho run passes them (`sarge run web python -c 'print(1)'`).
 */
function commandLine(words: string[]): string {
  return words.length === 1 ? words[0]! : words.map(shellQuote).join(" ");
}

/**
 * `sarge run`: bash in the instance's folder with the environment its
 * processes get, without ~/.bashrc; interactive without a command. Resolves
 * to bash's exit code.
 */
export function runInInstance(home: OpenHome, target: string, command: string[]): Promise<number> {
  const instance = resolveTarget(readState(home.paths), target, { allowProc: true });
  // --norc: bash reads ~/.bashrc even for -c when its input is a socket (ssh, or a parent's pipe), and a
  // PATH set there (pyenv, conda) would come before the instance's .venv/bin
  const args = ["--norc", ...(command.length === 0 ? [] : ["-c", commandLine(command)])];
  home.log.info({ instance: instance.id, interactive: command.length === 0 }, "sarge run");
  // the terminal's Ctrl-C reaches bash directly; sarge just waits for it (ignored before spawning: no window)
  process.on("SIGINT", () => undefined);
  const child = spawn("bash", args, {
    cwd: instanceDir(home.paths, instance.id),
    env: instanceEnvironment(home.paths, instance),
    stdio: "inherit",
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
}


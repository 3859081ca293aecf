import type { ProcessSettings } from "../home/config-types.js";

/** What the supervisor runs as `sh -c`, and whether the app is then the program's main process. */
export interface ProgramCommand {
  command: string;
  appIsMain: boolean;
}

/** `;`, `&`, `|`, parentheses, braces or a newline: a list or compound command (quoted ones too: a conservative test). */
const compound = /[;&|(){}\n]/;
/** First words before which `exec` fails or means something else: an assignment, a keyword, a builtin that must run in this shell. */
const shellFirstWord = /^(?:[A-Za-z_][A-Za-z0-9_]*=|(?:if|for|while|until|case|function|select|time|exec|cd|export|set|unset|ulimit|umask|trap|eval|source|\.|!|\[\[)(?:\s|$))/;
/** `cd src && exec python app.py`: the list ends by exec'ing the app. */
const endsInExec = /(?:^|&&|;)\s*exec\s[^;&|(){}\n]*$/;

/**
 * The Procfile command as the supervisor runs it. A lone simple command gets
 * `exec` in front (bash -c does that by itself, dash does not), so the app is
 * the program's main process and gets the stop signal itself; a list the
 * shell cannot exec (`cd src && python app.py`) keeps the shell as its main
 * process. Limits go first, as rlimits the shell sets and the app and every
 * child inherit; memory is RLIMIT_DATA (heap and private mappings: what a
 * Python process allocates), in KiB as `ulimit -d` takes it. A limit the
 * shell may not set fails the start, with the shell's message in the log.
 */
export function programCommand(command: string, limits: ProcessSettings["limits"]): ProgramCommand {
  const trimmed = command.trim();
  const simple = !compound.test(trimmed) && !shellFirstWord.test(trimmed);
  const run = simple ? `exec ${trimmed}` : command;
  const appIsMain = simple || endsInExec.test(trimmed);
  const settings: string[] = [];
  if (limits.nofile !== null) settings.push(`ulimit -n ${limits.nofile}`);
  if (limits.memoryBytes !== null) settings.push(`ulimit -d ${Math.floor(limits.memoryBytes / 1024)}`);
  return { command: settings.length === 0 ? run : `${settings.join(" && ")} || exit 1; ${run}`, appIsMain };
}

import type { ProcfileEntry } from "../procfile/parse.js";
import { LocalError } from "./errors.js";
import { pythonInt, pythonRepr } from "../procfile/pyutil.js";
import { RELEASE_HOOK } from "../procfile/read.js";

/** One process to run: `web.1`, its command and its own variables (docs/local.md, `start`). */
export interface ProcessSpec {
  /** `<type>.<instance>` */
  name: string;
  type: string;
  command: string;
  quiet: boolean;
  /** HONCHO_PROCESS_NAME, then the .env values, then PORT, in that order. */
  env: Map<string, string>;
}

/**
 * `-c web=2,worker=1`. honcho crashes with a traceback on a malformed value;
 * sarge reports it in one line instead (a deliberate difference).
 */
export function parseConcurrency(desc: string | undefined): Map<string, number> {
  const result = new Map<string, number>();
  if (desc === undefined) return result;
  for (const item of desc.split(",")) {
    const eq = item.indexOf("=");
    const count = eq < 0 ? undefined : pythonInt(item.slice(eq + 1));
    if (count === undefined) {
      throw new LocalError(
        `invalid value for concurrency: ${pythonRepr(item)} (expected process=num[,process=num], e.g. web=2,worker=1)`,
      );
    }
    result.set(item.slice(0, eq), count);
  }
  return result;
}

/** `-q a,b`: process types whose output is dropped. */
export function parseQuiet(desc: string | undefined): string[] {
  return desc === undefined ? [] : desc.split(",");
}

/**
 * The base port: `-p` > PORT in .env > PORT in the OS env > 5000. honcho lets
 * a .env PORT beat `-p`; sarge lets `-p` win, as honcho's changelog intends
 * (a deliberate difference).
 */
export function choosePort(cliPort: string | undefined, dotenv: Map<string, string>, osEnv: NodeJS.ProcessEnv): number {
  const raw = cliPort ?? dotenv.get("PORT") ?? osEnv.PORT;
  if (raw === undefined) return 5000;
  const port = pythonInt(raw);
  if (port === undefined) throw new LocalError(`invalid value for port: ${pythonRepr(raw)}`);
  return port;
}

/**
 * Pick the process types to run: all of them in Procfile order, or the named
 * ones in command-line order (duplicates merged). An unknown name is an error.
 */
export function selectProcesses(procfile: ProcfileEntry[], names: string[]): ProcfileEntry[] {
  if (names.length === 0) return longRunning(procfile);
  const selected = new Map<string, ProcfileEntry>();
  for (const name of names) {
    const entry = procfile.find((e) => e.name === name);
    if (!entry) throw new LocalError(`Process type '${name}' does not exist in Procfile`);
    if (!selected.has(name)) selected.set(name, entry);
  }
  return [...selected.values()];
}

/** The Procfile without its release hook, which Heroku runs once per deploy and never keeps running (honcho runs it like any other). */
export function longRunning(procfile: ProcfileEntry[]): ProcfileEntry[] {
  return procfile.filter((entry) => entry.name !== RELEASE_HOOK);
}

/**
 * honcho's expand_processes: type t (0-based, among the selected types) and
 * instance i (1..c) get `<type>.<i>` and PORT = base + 100·t + (i−1). A type
 * with c = 0 runs nothing but still takes its port slot.
 */
export function expandProcesses(
  types: ProcfileEntry[],
  options: { concurrency: Map<string, number>; dotenv: Map<string, string>; quiet: string[]; port: number },
): ProcessSpec[] {
  const out: ProcessSpec[] = [];
  let port = options.port;
  for (const entry of types) {
    const count = options.concurrency.get(entry.name) ?? 1;
    for (let i = 0; i < count; i++) {
      const name = `${entry.name}.${i + 1}`;
      const env = new Map<string, string>([["HONCHO_PROCESS_NAME", name]]);
      for (const [key, value] of options.dotenv) env.set(key, value);
      env.set("PORT", String(port + i));
      out.push({ name, type: entry.name, command: entry.command, quiet: options.quiet.includes(entry.name), env });
    }
    port += 100;
  }
  return out;
}

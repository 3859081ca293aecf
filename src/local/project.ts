import { readDotenvFiles } from "../procfile/dotenv.js";
import type { ProcfileEntry } from "../procfile/parse.js";
import { pathJoin } from "../procfile/pyutil.js";
import { readProcfile } from "../procfile/read.js";

/** The options every `sarge local` command accepts (docs/local.md, "Common options"), resolved. */
export interface CommonOptions {
  /** `-e`: comma-separated env files, default `.env`. */
  env: string;
  /** `-d`: default `.`. */
  appRoot: string;
  /** `-f`: undefined when not given (then .env/OS PROCFILE, else `Procfile`). */
  procfile: string | undefined;
  colour: boolean;
  prefix: boolean;
}

/** The env files `-e` names, each item stripped and joined to the app root. */
export function envFilePaths(options: Pick<CommonOptions, "env" | "appRoot">): string[] {
  return options.env.split(",").map((item) => pathJoin(options.appRoot, item.trim()));
}

/** Read the env files (missing ones skipped; a malformed one is a DotenvError). */
export function readEnv(options: Pick<CommonOptions, "env" | "appRoot">): Map<string, string> {
  return readDotenvFiles(envFilePaths(options));
}

/** The Procfile `-f` > PROCFILE in .env > PROCFILE in the OS env > `Procfile` names, in the app root; honcho's one message when it cannot be read. */
export function readLocalProcfile(options: CommonOptions, dotenv: Map<string, string>): ProcfileEntry[] {
  const name = options.procfile ?? dotenv.get("PROCFILE") ?? process.env.PROCFILE ?? "Procfile";
  return readProcfile(options.appRoot, name, () => "Procfile does not exist or is not a file");
}

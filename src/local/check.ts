import { log } from "./log.js";
import { readEnv, readLocalProcfile, type CommonOptions } from "./project.js";

/** `sarge local check`: env files and Procfile must parse; logs the process types at INFO on stderr. */
export function check(options: CommonOptions): void {
  const dotenv = readEnv(options);
  const procfile = readLocalProcfile(options, dotenv);
  log("INFO", `Valid procfile detected (${procfile.map((e) => e.name).join(", ")})`);
}

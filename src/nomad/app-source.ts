import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { basename, resolve } from "node:path";
import { appName } from "../bundle/git.js";
import { parseProcfile, type ProcfileEntry } from "../procfile/parse.js";
import { readProcfile } from "../procfile/read.js";
import { fileHash } from "../python-env/hashes.js";
import { ConfigError, SargeError } from "../util/errors.js";
import { checkSha256 } from "./inputs.js";

/** What a job is made from: the Procfile, the bundle's sha256 and the app's default job name. */
export interface AppSource {
  procfile: ProcfileEntry[];
  sha256: string;
  name: string;
}

/**
 * `--bundle FILE` gives all three (its Procfile, its sum, `<app>` from `<app>-<commit>.tar.gz`);
 * otherwise the Procfile of the folder `dir` and the sum given with `--sha256`.
 */
export async function readAppSource(options: { bundle?: string; sha256?: string; dir: string }): Promise<AppSource> {
  if (options.bundle !== undefined) return fromBundle(resolve(options.bundle), options.sha256);
  if (options.sha256 === undefined) {
    throw new ConfigError("sarge export nomad needs the bundle's sha256: give --bundle FILE (sarge computes it) or --sha256 HEX (as sarge bundle printed it)");
  }
  const dir = resolve(options.dir);
  return { procfile: readProcfile(dir), sha256: checkSha256(options.sha256), name: appName(dir) };
}

async function fromBundle(file: string, sha256: string | undefined): Promise<AppSource> {
  if (!existsSync(file)) throw new ConfigError(`--bundle: ${file} does not exist`);
  const actual = await fileHash(file);
  if (sha256 !== undefined && checkSha256(sha256) !== actual) {
    throw new ConfigError(`--sha256 ${sha256} is not the sum of ${file} (${actual}): is it the bundle you uploaded?`);
  }
  let text: string;
  try {
    text = execFileSync("tar", ["-xzOf", file, "Procfile"], { stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1024 * 1024 }).toString("utf8");
  } catch (error) {
    const why = String((error as { stderr?: Buffer }).stderr ?? "").trim();
    throw new SargeError(`${file} is not a bundle with a Procfile at its top level${why ? ` (tar: ${why})` : ""}`);
  }
  const match = /^(.+)-[0-9a-f]{40}\.tar\.gz$/.exec(basename(file));
  return { procfile: parseProcfile(text), sha256: actual, name: match ? match[1]! : appName(basename(file).replace(/\.tar\.gz$/, "")) };
}

import { mkdirSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { moveIntoPlace, writeTempFile } from "../util/atomic-file.js";
import { runChild } from "../util/run-child.js";
import type { HomePaths } from "../home/paths.js";
import { SargeError } from "../util/errors.js";
import { resolveHaproxyBin } from "./binary.js";

export interface ConfigCheck {
  /** `[WARNING]` lines HAProxy printed for a valid configuration. */
  warnings: string[];
}

function linesTagged(output: string, tag: string): string[] {
  return output
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.startsWith(tag));
}

/**
 * Run `haproxy -c -f <file>`. Resolves with the warnings of a valid file;
 * throws a SargeError whose message holds the [ALERT] lines otherwise.
 * Note that `-c` does not try to bind anything (see assertBindsFree).
 */
export async function checkHaproxyConfig(file: string, haproxyBin: string): Promise<ConfigCheck> {
  const bin = resolveHaproxyBin(haproxyBin);
  const result = await runChild(bin, ["-c", "-f", file], { timeoutMs: 30_000 });
  const output = result.all;
  if (result.exitCode === 0) return { warnings: linesTagged(output, "[WARNING]") };
  const alerts = linesTagged(output, "[ALERT]");
  const summary = alerts.length > 0 ? alerts.join(" ") : (output.trim() || (result.failure ?? "no output"));
  throw new SargeError(`HAProxy refused the configuration: ${summary}`, {
    detail: `${bin} -c -f ${file} exited ${String(result.exitCode ?? result.signal)}:\n${output.trim()}`,
  });
}

/** Checks started ahead of the write that needs them (prepareHaproxyCheck), by binary and text; each serves one write. */
const prepared = new Map<string, Promise<ConfigCheck>>();

/**
 * Start `haproxy -c` of `text` now, for a writeHaproxyConfig of the same text
 * later: a switch then waits only for what is left of the check (~40 ms), not
 * for all of it. A failed check is reported by that write. Resolves once the
 * check has ended, either way.
 */
export async function prepareHaproxyCheck(paths: Pick<HomePaths, "root" | "haproxyCfg">, text: string, haproxyBin: string): Promise<void> {
  const { bin, key } = checkKey(paths, text, haproxyBin);
  let check = prepared.get(key);
  if (!check) {
    mkdirSync(dirname(paths.haproxyCfg), { recursive: true });
    // only `haproxy -c` reads it; writeHaproxyConfig writes the file it installs itself
    const temp = writeTempFile(paths.haproxyCfg, text, 0o600, false);
    check = checkHaproxyConfig(temp, bin).finally(() => rmSync(temp, { force: true }));
    prepared.set(key, check);
  }
  await check.catch(() => undefined);
}

function checkKey(paths: Pick<HomePaths, "root">, text: string, haproxyBin: string): { bin: string; key: string } {
  const bin = resolveHaproxyBin(haproxyBin, { baseDir: paths.root });
  return { bin, key: `${bin}\0${text}` };
}

/**
 * Replace etc/haproxy/haproxy.cfg with `text`, atomically: write a temporary
 * file next to it, validate it with `haproxy -c` (or take the check
 * prepareHaproxyCheck made of the same text), move it into place.
 * An invalid text leaves the current file untouched and throws a SargeError
 * carrying HAProxy's [ALERT] lines. Also creates var/run for the sockets.
 */
export async function writeHaproxyConfig(
  paths: Pick<HomePaths, "root" | "haproxyCfg" | "run">,
  text: string,
  haproxyBin: string,
  mode = 0o644,
): Promise<ConfigCheck> {
  const { bin, key } = checkKey(paths, text, haproxyBin);
  mkdirSync(dirname(paths.haproxyCfg), { recursive: true });
  mkdirSync(paths.run, { recursive: true });
  const ahead = prepared.get(key);
  prepared.delete(key);
  const temp = writeTempFile(paths.haproxyCfg, text, mode);
  try {
    const check = await (ahead ?? checkHaproxyConfig(temp, bin));
    moveIntoPlace(temp, paths.haproxyCfg);
    return check;
  } finally {
    rmSync(temp, { force: true });
  }
}

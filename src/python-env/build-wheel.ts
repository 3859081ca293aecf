/**
 * One wheel built offline with the interpreter's pip (`pip wheel --no-deps --no-index`): first
 * with the build backend the interpreter already has (`--no-build-isolation`), then with pip's
 * isolation, which installs the backend from the find-links folders only. Used by `sarge wheel`
 * and for a pyproject.toml app's own package.
 */
import { readdir } from "node:fs/promises";
import { runChild } from "../util/run-child.js";
import { childEnvironment } from "./child-env.js";
import type { Interpreter } from "./interpreter.js";

export interface OfflineWheelBuild {
  interpreter: Interpreter;
  /** A project folder, an sdist or a requirement pip builds from the find-links folders. */
  target: string;
  findLinks: string[];
  /** Where pip writes the wheel: an empty folder. */
  outDir: string;
  cwd: string;
  log?: (line: string) => void;
  /** Added to pip's environment (SOURCE_DATE_EPOCH for reproducible wheels). */
  env?: Record<string, string>;
  cancel?: AbortSignal;
}

/** The built wheels' file names in outDir, or what each attempt said. */
export async function buildWheelOffline(options: OfflineWheelBuild): Promise<{ files: string[] } | { attempts: string[] }> {
  const attempts: string[] = [];
  for (const isolation of [false, true]) {
    const args = [
      "-I", "-m", "pip", "wheel", "--isolated", "--no-index", "--no-deps",
      ...options.findLinks.flatMap((dir) => ["--find-links", dir]),
      "-w", options.outDir, "--disable-pip-version-check", "--no-input", "--progress-bar", "off",
      ...(isolation ? [] : ["--no-build-isolation"]),
      options.target,
    ];
    const result = await runChild(options.interpreter.executable, args, { cwd: options.cwd, env: { ...childEnvironment({ pip: true }), ...options.env }, cancel: options.cancel });
    const output = result.all || (result.failure ?? "");
    for (const line of output.split("\n")) if (line.trim()) options.log?.(`pip: ${line}`);
    if (result.exitCode === 0) return { files: (await readdir(options.outDir)).filter((file) => file.endsWith(".whl")) };
    if (options.cancel?.aborted) throw options.cancel.reason ?? new Error("cancelled");
    attempts.push(`${isolation ? "with the build backend from dist (and a bundle's wheels)" : "with the interpreter's own build backend"}: ${summarize(output)}`);
  }
  return { attempts };
}

function summarize(output: string): string {
  const lines = output.split("\n").map((line) => line.trim()).filter(Boolean);
  const interesting = lines.filter((line) => /^(ERROR|error)\b|Error\b|No matching distribution|invalid command/.test(line));
  return (interesting.length > 0 ? interesting.slice(-3) : lines.slice(-3)).join(" | ");
}

/**
 * One environment build: `python -m venv --without-pip <dir>`, then the host's pip installs into
 * it (as `pip --python <dir>` does), offline and isolated. Falls back to a venv with its own pip
 * when the host pip is too old for --python (< 22.3) or absent, and says so.
 */
import { spawn } from "node:child_process";
import { runChild } from "../util/run-child.js";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { shellQuote } from "../procfile/pyutil.js";
import { stopTreeOnAbort } from "../util/abort-tree.js";
import { SargeError } from "../util/errors.js";
import type { DistListing } from "./dist.js";
import { childEnvironment } from "./child-env.js";
import type { Interpreter } from "./interpreter.js";
import { pipFailureError } from "./messages.js";
import { writePipShim } from "./pip-shim.js";
import { MANIFEST } from "./store.js";

export interface BuildOptions {
  dir: string;
  key: string;
  interpreter: Interpreter;
  requirementsFile: string;
  requirementsFiles: string[];
  /** A wheel installed with the requirements (a pyproject.toml app's own), relative to appDir. */
  appWheel?: string;
  appDir: string;
  dist: string;
  /** Where pip finds files: dist, then a bundle's wheels. */
  findLinks: string[];
  /** How messages name them. */
  label: string;
  /** The requirements carry hashes: pip checks every file against them. */
  requireHashes: boolean;
  listing: DistListing;
  log: (line: string) => void;
  /** A cancelled release: pip and what it started are stopped and the build fails. */
  cancel?: AbortSignal;
}

/** Options every pip run gets: only dist (and a bundle's wheels), no index, no config, no prompts, no version check, no retries. */
export function pipInstallArgs(findLinks: string[], installList: string, requireHashes = false): string[] {
  return [
    "install",
    "--isolated",
    "--no-index",
    ...findLinks.flatMap((dir) => ["--find-links", dir]),
    ...(requireHashes ? ["--require-hashes"] : []),
    "--disable-pip-version-check",
    "--no-input",
    "--retries",
    "0",
    "--progress-bar",
    "off",
    "-r",
    installList,
  ];
}

/**
 * What pip installs: the app's requirements, then a last --no-index line. pip applies a file's
 * options line by line, and older pips let an --index-url line re-enable the index that the
 * command line turned off; nothing comes after this line.
 */
const INSTALL_LIST = ".sarge-install.txt";

async function writeInstallList(dir: string, requirementsFile: string, appWheel: string | undefined): Promise<string> {
  const list = join(dir, INSTALL_LIST);
  // a path line is read as written, relative to pip's working directory, the app folder
  await writeFile(list, `-r ${shellQuote(requirementsFile)}\n${appWheel ? `./${appWheel}\n` : ""}--no-index\n`);
  return list;
}

/** Builds the environment in `dir` (which must not exist). Throws SargeError; `dir` is removed on failure. */
export async function buildEnvironment(options: BuildOptions): Promise<void> {
  const { dir, interpreter, log } = options;
  const started = Date.now();
  try {
    await createVenv(interpreter.executable, dir, false);
    const python = join(dir, "bin", "python");
    const installList = await writeInstallList(dir, options.requirementsFile, options.appWheel);
    const args = pipInstallArgs(options.findLinks, installList, options.requireHashes);
    let route: string;
    let pip: { exitCode: number | undefined; output: string };
    if (interpreter.pipRunner) {
      // The host's pip, run by the new environment's interpreter through pip's own runner file:
      // exactly the child process `pip --python <env>` starts, minus first starting pip in the
      // host interpreter only to re-launch itself (~0.5 CPU-s of a ~4 CPU-s build).
      route = "host pip via its runner (as --python runs it)";
      pip = await runLogged(python, ["-I", interpreter.pipRunner, ...args], options.appDir, log, options.cancel);
    } else {
      route = "host pip --python";
      pip = await runLogged(interpreter.executable, ["-I", "-m", "pip", "--python", python, ...args], options.appDir, log, options.cancel);
      if (pip.exitCode !== 0 && /no such option: --python|No module named pip/.test(pip.output)) {
        log(
          `python environment: the host pip of ${interpreter.executable} cannot install into another environment (needs pip 22.3+ for --python); ` +
            `using a virtualenv with its own pip instead, which is slower`,
        );
        await rm(dir, { recursive: true, force: true });
        await createVenv(interpreter.executable, dir, true);
        await writeInstallList(dir, options.requirementsFile, options.appWheel);
        route = "venv pip";
        pip = await runLogged(python, ["-I", "-m", "pip", ...args], options.appDir, log, options.cancel);
      }
    }
    if (pip.exitCode !== 0) {
      throw pipFailureError(pip.output, pip.exitCode, { dist: options.label, listing: options.listing, pythonVersion: interpreter.version });
    }
    await rm(installList);
    if (route !== "venv pip") await writePipShim(dir, interpreter.executable);
    const manifest = {
      key: options.key,
      python: interpreter,
      requirements: options.requirementsFiles,
      ...(options.appWheel ? { appWheel: options.appWheel } : {}),
      dist: options.dist,
      findLinks: options.findLinks,
      hashChecked: options.requireHashes,
      distFiles: options.listing.files.length,
      pip: route,
      builtAt: new Date().toISOString(),
      buildMs: Date.now() - started,
    };
    await writeFile(join(dir, MANIFEST), JSON.stringify(manifest, null, 2) + "\n");
    await flushToDisk(dir);
  } catch (error) {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
}

async function createVenv(executable: string, dir: string, withPip: boolean): Promise<void> {
  const args = ["-I", "-m", "venv", ...(withPip ? [] : ["--without-pip"]), dir];
  const result = await runChild(executable, args, { env: childEnvironment() });
  if (result.exitCode !== 0) {
    throw new SargeError(`cannot create a virtualenv with ${executable}${withPip ? " (with pip)" : ""}`, {
      detail: (result.all || result.failure || "").trim(),
    });
  }
}

/**
 * Written data reaches the disk before the environment is published: after a power cut a
 * published key must not name half-written files. syncfs(2) through coreutils `sync -f`; a
 * machine without it only loses that guarantee.
 */
async function flushToDisk(dir: string): Promise<void> {
  await runChild("sync", ["-f", dir]);
}

/** Runs a command in sarge's process group (a killed sarge takes it along), sending every output line to `log` as it comes, and returns the whole output. */
function runLogged(
  command: string,
  args: string[],
  cwd: string,
  log: (line: string) => void,
  cancel: AbortSignal | undefined,
): Promise<{ exitCode: number | undefined; output: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd, env: childEnvironment({ pip: true }), stdio: ["ignore", "pipe", "pipe"] });
    const unwatch = stopTreeOnAbort(child.pid, cancel);
    let output = "";
    const partial = { stdout: "", stderr: "" };
    const feed = (stream: "stdout" | "stderr", chunk: Buffer) => {
      const text = chunk.toString("utf8");
      output += text;
      const lines = (partial[stream] + text).split("\n");
      partial[stream] = lines.pop()!;
      for (const line of lines) if (line.trim() !== "") log(`pip: ${line}`);
    };
    child.stdout.on("data", (chunk: Buffer) => feed("stdout", chunk));
    child.stderr.on("data", (chunk: Buffer) => feed("stderr", chunk));
    child.on("error", (error) => {
      unwatch();
      reject(error);
    });
    child.on("close", (code) => {
      unwatch();
      for (const rest of [partial.stdout, partial.stderr]) if (rest.trim() !== "") log(`pip: ${rest}`);
      resolvePromise({ exitCode: code ?? undefined, output });
    });
  });
}

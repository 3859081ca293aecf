import { randomInt } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { basename, dirname, join, relative } from "node:path";
import { SargeError } from "../util/errors.js";
import getPort from "get-port";
import { writeSupervisordConfig } from "../supervise/supervisord/index.js";
import { renderTemplate } from "../util/templates.js";
import type { SupervisorKind } from "./config-types.js";
import type { HomePaths } from "./paths.js";
import { pinnedVersion, pinRunningSarge, pointAt, wrapperFiles } from "./pinned-sarge.js";

export interface InitOptions {
  supervisor: SupervisorKind;
}

/** "kept": the file was already there and is left exactly as it is. */
export type FileOutcome = "created" | "kept";

export interface InitReport {
  home: string;
  files: Array<{ path: string; outcome: FileOutcome }>;
  unitFile: string;
  unitName: string;
}

/**
 * Create a home (docs/architecture.md, "Where state lives"). Idempotent: existing files are never
 * overwritten, so a second run keeps whatever the user edited and says so.
 */
export async function initHome(paths: HomePaths, options: InitOptions): Promise<InitReport> {
  try {
    for (const dir of [paths.bin, paths.opt, paths.dist, paths.etc, join(paths.etc, "haproxy"), paths.deploy, paths.envs, paths.log]) {
      mkdirSync(dir, { recursive: true });
    }
    mkdirSync(paths.run, { recursive: true, mode: 0o700 });
    chmodSync(paths.run, 0o700);
  } catch (error) {
    throw cannotCreate(paths.root, error);
  }

  const unitName = `sarge-${basename(paths.root).replace(/[^A-Za-z0-9_.-]/g, "-")}.service`;
  const unitFile = join(paths.etc, unitName);
  const files: InitReport["files"] = [];
  const place = (path: string, content: () => string | Promise<string>, mode: number) =>
    writeIfMissing(path, content, mode).then((outcome) => files.push({ path: relative(paths.root, path), outcome }));

  await place(paths.config, async () => renderTemplate("sarge.yaml", { ...(await randomPortBase()), supervisor: options.supervisor }), 0o600);
  files.push(pinSarge(paths));
  for (const wrapper of wrapperFiles(paths)) await place(wrapper.path, wrapper.content, 0o755);
  await place(unitFile, () => renderTemplate("sarge.service", { home: paths.root, user: userInfo().username, unitFile, unitName }), 0o644);
  if (options.supervisor === "supervisord") {
    const conf = await writeSupervisordConfig(paths);
    files.push({ path: relative(paths.root, conf), outcome: "created" });
  }
  return { home: paths.root, files, unitFile, unitName };
}

/** A home made before has its sarge already, whichever version: only `sarge upgrade` changes it. */
function pinSarge(paths: HomePaths): InitReport["files"][number] {
  const pinned = pinnedVersion(paths, "current");
  if (pinned !== null) return { path: join("opt", `sarge-${pinned}`), outcome: "kept" };
  const { version, created } = pinRunningSarge(paths);
  pointAt(paths, "current", version);
  return { path: join("opt", `sarge-${version}`), outcome: created ? "created" : "kept" };
}

async function writeIfMissing(path: string, content: () => string | Promise<string>, mode: number): Promise<FileOutcome> {
  if (existsSync(path)) return "kept";
  writeFileSync(path, await content(), { mode, flag: "wx" });
  chmodSync(path, mode);
  return "created";
}

/** A base port B, free now, with instances on B+10..B+99 (issue: random base per home). */
async function randomPortBase(): Promise<{ base: number; rangeLow: number; rangeHigh: number }> {
  for (;;) {
    // below 32768, where Linux starts handing out ephemeral ports
    const base = 10_000 + 100 * randomInt(0, 220);
    if ((await getPort({ port: base, host: "127.0.0.1" })) === base) return { base, rangeLow: base + 10, rangeHigh: base + 99 };
  }
}

/** A home this user may not create (a root-owned /var/local, say): which folder refused, and the usual way out. */
function cannotCreate(root: string, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== "EACCES" && code !== "EPERM") return error;
  let refusing = root;
  while (!existsSync(refusing) && dirname(refusing) !== refusing) refusing = dirname(refusing);
  const user = userInfo().username;
  return new SargeError(`cannot create the home ${root}: user ${user} may not write in ${refusing} (${code})`, {
    detail: `Create it as root and give it to this user (sudo mkdir -p ${root} && sudo chown ${user} ${root}), or choose a folder this user owns.`,
    cause: error,
  });
}

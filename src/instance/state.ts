import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { writeFileAtomic } from "../util/atomic-file.js";
import { SargeError } from "../util/errors.js";
import { userName } from "../home/owner.js";
import type { HomePaths } from "../home/paths.js";
import type { Slot } from "../haproxy/types.js";
import type { PendingRelease } from "../release/history.js";
import { compareText } from "../util/compare-text.js";

/**
 * - deploying: being built by a deploy that has not finished (or was killed)
 * - active: serving its process type
 * - staged: started and ready by `sarge deploy --stage`, kept running but not routed, until `sarge activate` or `sarge discard`
 * - kept: stopped, kept for rollback
 */
export type InstanceState = "deploying" | "active" | "staged" | "kept";

export interface InstanceRecord {
  id: string;
  proc: string;
  release: number;
  state: InstanceState;
  port: number;
  commit: string | null;
  /** The Procfile command it runs. */
  command: string;
  /** Key of its Python environment under var/envs, or null without requirements.txt. */
  envKey: string | null;
  /** The config `env` it was started with, so a rollback restores it. */
  configEnv: Record<string, string>;
  createdAt: string;
  activatedAt: string | null;
  retiredAt: string | null;
  /** Kept, and started by `sarge start` or `restart`: recovery leaves it running. */
  startedByHand?: boolean;
  /** Its log's size when it was last started: `sarge logs -f` follows a reactivated instance from there. */
  logStart?: number;
}

/** Which slot of a port_map entry's HAProxy listen block holds which instance. */
export interface Route {
  active: Slot;
  blue: string | null;
  green: string | null;
}

export interface State {
  version: 1;
  lastRelease: number;
  instances: Record<string, InstanceRecord>;
  routes: Record<string, Route>;
  /** Stable addresses ("host:port" per process type) HAProxy was last configured with; a change needs a reload. */
  listeners?: Record<string, string>;
  /** The release under way (see PendingRelease). */
  pendingRelease?: PendingRelease;
}

export function emptyState(): State {
  return { version: 1, lastRelease: 0, instances: {}, routes: {} };
}

export function readState(paths: HomePaths): State {
  if (!existsSync(paths.state)) {
    // a new home has neither; starting empty next to deployed folders would treat live instances as strays
    // (a dot folder is an upload being received: instance ids never start with a dot)
    const deployed = existsSync(paths.deploy) ? readdirSync(paths.deploy).filter((name) => !name.startsWith(".")).map((name) => `deploy/${name}`) : [];
    const evidence = [...deployed.slice(0, 3), ...(existsSync(`${paths.state}.bak`) ? [`${paths.state}.bak`] : [])];
    if (evidence.length > 0) {
      throw new SargeError(`${paths.state} is missing, but this home has been deployed to (found ${evidence.join(", ")})`, {
        detail: `sarge will not guess what runs. Restore it with \`cp ${paths.state}.bak ${paths.state}\` if that copy exists, or stop the supervisor, move deploy/ away and deploy again.`,
      });
    }
    return emptyState();
  }
  let text: string;
  try {
    text = readFileSync(paths.state, "utf8");
  } catch (error) {
    throw unreadable(paths, error);
  }
  try {
    return parseState(text);
  } catch (error) {
    const backup = `${paths.state}.bak`;
    throw new SargeError(`${paths.state} is corrupted: ${(error as Error).message}`, {
      detail: `sarge will not guess what is deployed, and changed nothing. ${backupAdvice(backup, paths.state)}`,
    });
  }
}

/** A state file that cannot be read is not a corrupted one: say why it cannot be, and leave it alone. */
function unreadable(paths: HomePaths, error: unknown): SargeError {
  if ((error as NodeJS.ErrnoException).code === "EACCES") {
    const [file, home] = [statSync(paths.state), statSync(paths.root)];
    if (file.uid !== home.uid) {
      const owner = userName(home.uid);
      return new SargeError(
        `${paths.state} cannot be read: it belongs to ${userName(file.uid)}, not to the home's owner ${owner} (chown -R ${owner} ${paths.root})`,
      );
    }
  }
  return new SargeError(`${paths.state} cannot be read: ${(error as Error).message}`);
}

function parseState(text: string): State {
  const state = JSON.parse(text) as State;
  if (state?.version !== 1 || typeof state.instances !== "object" || typeof state.routes !== "object") {
    throw new Error("not a sarge state file (version 1)");
  }
  return state;
}

/** What to do about a broken state file, depending on whether its copy is usable. */
function backupAdvice(backup: string, file: string): string {
  const lastResort =
    "move the broken file away to start from an empty state (running instances are then unknown to sarge and must be stopped by hand)";
  try {
    parseState(readFileSync(backup, "utf8"));
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === "ENOENT" ? "does not exist" : `is not usable either (${(error as Error).message})`;
    return `Its copy ${backup} ${why}: repair the file by hand, or ${lastResort}.`;
  }
  return `${backup} is a copy of the last state sarge wrote, written after it: restore it with \`cp ${backup} ${file}\`, or ${lastResort}.`;
}

/**
 * Persist state atomically, then the same content to state.json.bak: a copy
 * to restore if state.json is damaged from outside (a hand edit, the disk).
 * A copy of the previous version would not do: restoring it would make sarge
 * route to an instance one step behind what runs.
 */
export function writeState(paths: HomePaths, state: State): void {
  const text = stateText(state);
  writeFileAtomic(paths.state, text);
  writeFileAtomic(`${paths.state}.bak`, text);
}

/**
 * writeState, unless state.json already holds exactly this state: each write
 * is two files and four fsyncs, and a recovery that found nothing to put
 * right (nearly every command) changed nothing.
 */
export function writeStateIfChanged(paths: HomePaths, state: State): void {
  const text = stateText(state);
  const holds = (file: string) => readFileSync(file, "utf8") === text;
  try {
    if (holds(paths.state) && holds(`${paths.state}.bak`)) return;
  } catch {
    // a file missing or unreadable: write both
  }
  writeState(paths, state);
}

function stateText(state: State): string {
  return JSON.stringify(state, null, 2) + "\n";
}

export function instancesOf(state: State, proc: string): InstanceRecord[] {
  return Object.values(state.instances)
    .filter((instance) => instance.proc === proc)
    .sort((a, b) => b.release - a.release || compareText(b.createdAt, a.createdAt));
}

export function activeInstance(state: State, proc: string): InstanceRecord | undefined {
  return instancesOf(state, proc).find((instance) => instance.state === "active");
}

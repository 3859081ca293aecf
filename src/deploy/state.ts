import { existsSync, readFileSync } from "node:fs";
import { writeFileAtomic } from "../atomic-file.js";
import { SargeError } from "../errors.js";
import type { HomePaths } from "../home/paths.js";

/**
 * - deploying: being built by a deploy that has not finished (or was killed)
 * - active: serving its process type
 * - kept: stopped, kept for rollback
 */
export type InstanceState = "deploying" | "active" | "kept";

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
}

export type Slot = "blue" | "green";

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
}

export function emptyState(): State {
  return { version: 1, lastRelease: 0, instances: {}, routes: {} };
}

export function readState(paths: HomePaths): State {
  if (!existsSync(paths.state)) return emptyState();
  const text = readFileSync(paths.state, "utf8");
  try {
    const state = JSON.parse(text) as State;
    if (state.version !== 1 || typeof state.instances !== "object" || typeof state.routes !== "object") {
      throw new Error("not a sarge state file (version 1)");
    }
    return state;
  } catch (error) {
    throw new SargeError(`${paths.state} is corrupted: ${(error as Error).message}`, {
      detail:
        `sarge will not guess what is deployed. The previous good copy is ${paths.state}.bak: ` +
        `inspect it and restore it with \`cp ${paths.state}.bak ${paths.state}\`, or move the broken file away to start from an empty state ` +
        `(running instances are then unknown to sarge and must be stopped by hand).`,
    });
  }
}

/** Persist state atomically, keeping the previous version as state.json.bak. */
export function writeState(paths: HomePaths, state: State): void {
  if (existsSync(paths.state)) writeFileAtomic(`${paths.state}.bak`, readFileSync(paths.state, "utf8"));
  writeFileAtomic(paths.state, JSON.stringify(state, null, 2) + "\n");
}

/** Read, change and write back. Callers hold the home lock, so there is no lost update. */
export function updateState(paths: HomePaths, change: (state: State) => void): State {
  const state = readState(paths);
  change(state);
  writeState(paths, state);
  return state;
}

export function instancesOf(state: State, proc: string): InstanceRecord[] {
  return Object.values(state.instances)
    .filter((instance) => instance.proc === proc)
    .sort((a, b) => b.release - a.release || b.createdAt.localeCompare(a.createdAt));
}

export function activeInstance(state: State, proc: string): InstanceRecord | undefined {
  return instancesOf(state, proc).find((instance) => instance.state === "active");
}

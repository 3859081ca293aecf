import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { HomePaths } from "../home/paths.js";
import { isSameProcessAlive, processStartTime } from "../util/process-alive.js";

/**
 * A deploy receives its archive before it takes the home lock (a stalled
 * upload must never block a rollback), into deploy/.incoming-<pid>-<start
 * time>-<random>: the same file system as the instance folder it becomes, and
 * named for its owner so recovery leaves it alone while that process lives.
 */
const INCOMING = /^\.incoming-(\d+)-(\d+)-[0-9a-f]+$/;

export function incomingFolder(paths: HomePaths): string {
  return join(paths.deploy, `.incoming-${process.pid}-${processStartTime(process.pid) ?? 0}-${randomBytes(4).toString("hex")}`);
}

/** A folder of deploy/ that a live deploy is receiving its archive into. */
export function isReceiving(name: string): boolean {
  const owner = INCOMING.exec(name);
  return owner !== null && isSameProcessAlive(Number(owner[1]), owner[2]!);
}

/** A folder of deploy/ that a deploy killed while receiving left behind. */
export function isAbandonedIncoming(name: string): boolean {
  return INCOMING.test(name) && !isReceiving(name);
}

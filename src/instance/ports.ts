import getPort, { portNumbers } from "get-port";
import { bindError } from "../util/bind-check.js";
import { SargeError } from "../util/errors.js";
import type { State } from "./state.js";

/**
 * The lowest port of the range that no instance in state holds (kept ones
 * included, for rollback) and that is free on the system right now.
 */
export async function allocatePort(range: [number, number], state: State): Promise<number> {
  const taken = Object.values(state.instances).map((instance) => instance.port);
  // get-port throws when every port is excluded, and falls back to a random port outside the list when none is free
  const port = await getPort({ port: portNumbers(range[0], range[1]), exclude: taken }).catch(() => 0);
  if (port >= range[0] && port <= range[1]) return port;
  // new instances wait in state with port 0, and ports outside a narrowed range hold nothing in it
  const held = new Set(taken.filter((candidate) => candidate >= range[0] && candidate <= range[1])).size;
  throw new SargeError(
    `port range ${range[0]}-${range[1]} is exhausted: ${held} ports are held by instances and the rest are in use on this machine`,
    { detail: "Widen port_range in etc/sarge.yaml, lower keep_releases, or destroy kept instances (`sarge list`, `sarge destroy <instance>`)." },
  );
}

/** Nothing listens on `port`, on any address. */
export async function isPortFree(port: number): Promise<boolean> {
  return (await bindError(port)) === null;
}

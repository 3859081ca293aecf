import { loadConfig } from "../home/config.js";
import { openContext } from "../home/open.js";
import type { HomePaths } from "../home/paths.js";
import { verifyStable } from "../instance/verify.js";
import { listInstances } from "../instance/views.js";
import { activateRelease } from "./activate.js";
import { ACTIVATED, PREPARED, SWITCHED, type HeldRequest } from "./hold-protocol.js";
import { StepCancelled } from "./steps.js";
import type { SwitchedRelease } from "./transaction.js";

/**
 * What `sarge hold` runs for the push that holds it (docs/fleet-primitives.md):
 * what each host runs before the push (as `sarge list --json`), and phase
 * B's activate and verify of each host, inside the one process that already
 * holds the lock, instead of a new sarge started for each over ssh.
 * The lines it reads and writes are hold-protocol.ts's.
 */

/**
 * `ok <JSON result>` or `failed <JSON message>`: what the command-line command prints as JSON, or its error. `token`: the hold's lock.
 * An activation asked to say `switched` says it through `early` (its answer in turn), and its final answer then begins with ACTIVATED;
 * a prepared one says PREPARED through it too, out of turn.
 */
export async function runHeldRequest(paths: HomePaths, token: string, line: string, early: (line: string, inTurn: boolean) => void): Promise<string> {
  // the request uses the hold's lock as its own, as a command given the token does
  process.env.SARGE_LOCK_TOKEN = token;
  let said = false;
  const switched = (result: SwitchedRelease) => {
    said = true;
    early(`${SWITCHED} ${JSON.stringify(result)}`, true);
  };
  const answer = await (async () => run(paths, parse(line), switched, early))().then(
    (result) => `ok ${JSON.stringify(result)}`,
    (error: unknown) => `failed ${JSON.stringify((error as Error).message)}`,
  );
  return said ? `${ACTIVATED} ${answer}` : answer;
}

async function run(paths: HomePaths, request: HeldRequest, switched: (result: SwitchedRelease) => void, early: (line: string, inTurn: boolean) => void): Promise<object> {
  if (request.command === "verify") return verifyStable(loadConfig(paths), request.procs, request.forMs, request.passes);
  const ctx = await openContext(paths, request.command);
  try {
    if (request.command === "list") return await listInstances(ctx);
    return await activateRelease(ctx, request.release, [], false, {
      switched: request.switched === true ? switched : undefined,
      beforeSwitch: request.prepare === true ? () => waitForGo(early) : undefined,
    });
  } finally {
    await ctx.supervisor.close();
  }
}

let decide: (go: boolean) => void = () => undefined;
let decision = new Promise<boolean>((resolve) => (decide = resolve));

/** A line `go` or `abort` for the prepared activation (it may come before the activation gets there); false for any other line. */
export function goAhead(line: string): boolean {
  const word = line.trim();
  if (word !== "go" && word !== "abort") return false;
  decide(word === "go");
  return true;
}

async function waitForGo(early: (line: string, inTurn: boolean) => void): Promise<void> {
  early(`${PREPARED} {}`, false);
  const go = await decision;
  decision = new Promise<boolean>((resolve) => (decide = resolve));
  if (!go) throw new StepCancelled("switch");
}

function parse(line: string): HeldRequest {
  let request: Partial<HeldRequest & { release: unknown; procs: unknown; forMs: unknown; passes: unknown }>;
  try {
    request = JSON.parse(line) as typeof request;
  } catch {
    throw new Error(`not a request: ${line.slice(0, 100)}`);
  }
  if (request.command === "list" || (request.command === "activate" && Number.isInteger(request.release))) return request as HeldRequest;
  const count = (value: unknown) => typeof value === "number" && Number.isFinite(value) && value >= 0;
  if (request.command === "verify" && Array.isArray(request.procs) && request.procs.every((proc) => typeof proc === "string") && count(request.forMs) && count(request.passes)) {
    return request as HeldRequest;
  }
  throw new Error(`not a request: ${line.slice(0, 100)}`);
}

import { pollUntil, soonThenEvery } from "../util/poll.js";
import { tcpProbe } from "../util/tcp-probe.js";
import { foreignListener } from "./listeners.js";

export interface ReadinessCheck {
  port: number;
  /** null: a TCP connect is enough; "/up": an HTTP 2xx/3xx answer is needed. */
  httpPath: string | null;
  timeoutMs: number;
  /** Called between probes; returns why the process can no longer become ready, or null while it runs. */
  exited(): Promise<string | null>;
  /** The pid of the instance's process: only sockets of its group or descendants may answer. */
  owner(): Promise<number | null>;
}

export type ReadinessResult = { ready: true; elapsedMs: number } | { ready: false; reason: string };

/** Polls 5 ms apart before slowing down: about the first 2 s of an instance's start. */
const FAST_POLLS = 400;
const EXIT_CHECK_MS = 100;

/** Poll until the instance answers on its port, it exits, the timeout passes, or another program answers there. */
export async function waitUntilReady(check: ReadinessCheck): Promise<ReadinessResult> {
  const started = Date.now();
  let lastProblem = "nothing is listening";
  let exitAskedAt = Number.NEGATIVE_INFINITY;
  const outcome = async (): Promise<ReadinessResult | undefined> => {
    const problem = await probeInstance(check.port, check.httpPath);
    if (problem === null) {
      const squatter = await foreignListener(check.port, await check.owner());
      if (squatter === null) return { ready: true, elapsedMs: Date.now() - started };
      return { ready: false, reason: `does not hold its port ${check.port}: ${squatter} listens there; sarge routes only to the instance's own processes` };
    }
    lastProblem = problem;
    // the port is cheap to probe every 5 ms; the supervisor (supervisord's XML-RPC) is asked about an exit at most every 100 ms
    if (Date.now() - exitAskedAt < EXIT_CHECK_MS) return undefined;
    exitAskedAt = Date.now();
    const exit = await check.exited();
    return exit === null ? undefined : { ready: false, reason: `the process ${exit} before it was ready` };
  };
  // Most apps answer within a second: a deploy waits no longer than 5 ms past that; a slow starter is then looked at less often.
  return (
    (await pollUntil(outcome, { timeoutMs: check.timeoutMs, intervalMs: soonThenEvery(FAST_POLLS, 200) })) ?? {
      ready: false,
      reason: `not ready after ${check.timeoutMs / 1000}s on port ${check.port}: ${lastProblem}`,
    }
  );
}

/** The readiness check once: null when `host:port` answers (TCP connect, or `httpPath` with 2xx/3xx), else what went wrong. */
export function probeInstance(port: number, httpPath: string | null, host = "127.0.0.1"): Promise<string | null> {
  return httpPath === null ? tcpProbe(port, host) : httpProbe(host, port, httpPath);
}

async function httpProbe(host: string, port: number, path: string): Promise<string | null> {
  // loaded here: `sarge list` and TCP checks never need node:http (~5 ms of a run's start)
  const { request } = await import("node:http");
  return new Promise((resolve) => {
    const req = request({ host, port, path, method: "GET", timeout: 2000, agent: false }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      resolve(status >= 200 && status < 400 ? null : `GET ${path} answered ${status}`);
    });
    req.once("timeout", () => req.destroy(new Error("timed out")));
    req.once("error", (error) => resolve(`GET ${path} failed (${(error as NodeJS.ErrnoException).code ?? error.message})`));
    req.end();
  });
}

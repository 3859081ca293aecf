import { connect } from "node:net";
import { request } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";

export interface ReadinessCheck {
  port: number;
  /** null: a TCP connect is enough; "/up": an HTTP 2xx/3xx answer is needed. */
  httpPath: string | null;
  timeoutMs: number;
  /** Called between probes; returns why the process can no longer become ready, or null while it runs. */
  exited(): Promise<string | null>;
}

export type ReadinessResult = { ready: true; elapsedMs: number } | { ready: false; reason: string };

/** Poll until the instance answers on its port, it exits, or the timeout passes. */
export async function waitUntilReady(check: ReadinessCheck): Promise<ReadinessResult> {
  const started = Date.now();
  let lastProblem = "nothing is listening";
  for (let attempt = 0; ; attempt++) {
    const problem = await probeInstance(check.port, check.httpPath);
    if (problem === null) return { ready: true, elapsedMs: Date.now() - started };
    lastProblem = problem;
    const exit = await check.exited();
    if (exit !== null) return { ready: false, reason: `the process ${exit} before it was ready` };
    if (Date.now() - started >= check.timeoutMs) {
      return { ready: false, reason: `not ready after ${check.timeoutMs / 1000}s on port ${check.port}: ${lastProblem}` };
    }
    await sleep(Math.min(25 * 2 ** Math.min(attempt, 3), 200));
  }
}

/** The readiness check once: null when the instance on `port` answers (TCP connect, or `httpPath` with 2xx/3xx), else what went wrong. */
export function probeInstance(port: number, httpPath: string | null): Promise<string | null> {
  return httpPath === null ? tcpProbe(port) : httpProbe(port, httpPath);
}

/** null when something accepts a TCP connection on host:port, else what went wrong. */
export function tcpProbe(port: number, host = "127.0.0.1"): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.setTimeout(1000);
    socket.once("connect", () => {
      socket.destroy();
      resolve(null);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve("connect timed out");
    });
    socket.once("error", (error) => resolve(`connect failed (${(error as NodeJS.ErrnoException).code ?? error.message})`));
  });
}

function httpProbe(port: number, path: string): Promise<string | null> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path, method: "GET", timeout: 2000, agent: false }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      resolve(status >= 200 && status < 400 ? null : `GET ${path} answered ${status}`);
    });
    req.once("timeout", () => req.destroy(new Error("timed out")));
    req.once("error", (error) => resolve(`GET ${path} failed (${(error as NodeJS.ErrnoException).code ?? error.message})`));
    req.end();
  });
}

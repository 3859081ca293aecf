/**
 * A closed-loop HTTP load generator (no wrk or hyperfine needed): each worker
 * sends a request to 127.0.0.1, waits for the whole answer, sends the next
 * (or, paced, at most one every `intervalMs`).
 * "keep-alive" workers each hold one persistent connection; "close" workers
 * open a new connection per request.
 */
import { Agent, request } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { waitFor } from "./wait.js";

export type LoadMode = "keep-alive" | "close";

export interface LoadSample {
  mode: LoadMode;
  /** Epoch ms, sub-millisecond precision (see now()). */
  start: number;
  end: number;
  /** HTTP status, or 0 when the request failed before an answer. */
  status: number;
  /** The body of a 200 answer, else null. */
  body: string | null;
  /** The instance named in the body (examples/hello), else null. */
  instance: string | null;
  /** What went wrong: a socket error code, a timeout, or "HTTP 503: <body>". null for a 200. */
  error: string | null;
}

export interface LoadOptions {
  /** How many workers, alternately keep-alive and close (default 4), or one mode per worker. */
  workers?: number | LoadMode[];
  /** Stop on their own after this long (default 5 minutes): load loops are bounded. */
  maxMs?: number;
  path?: string;
  requestTimeoutMs?: number;
  /**
   * Each worker starts a request at most this often. Unset, they send as
   * fast as answers come, which on a small machine takes the CPU from
   * whatever else is being measured beside the load.
   */
  intervalMs?: number;
}

export interface LoadRun {
  samples: LoadSample[];
  /** Resolves once `count` more requests have been answered or failed. */
  answered(count: number): Promise<void>;
  stop(): Promise<LoadSample[]>;
}

/** Wall-clock epoch milliseconds with sub-millisecond precision. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export function startLoad(port: number, options: LoadOptions = {}): LoadRun {
  const samples: LoadSample[] = [];
  const deadline = Date.now() + (options.maxMs ?? 300_000);
  const workers = options.workers ?? 4;
  const modes: LoadMode[] = typeof workers === "number" ? Array.from({ length: workers }, (_, index) => (index % 2 === 0 ? "keep-alive" : "close")) : workers;
  const agents: Agent[] = [];
  let running = true;
  const once = (mode: LoadMode, agent: Agent | false) =>
    new Promise<void>((resolve) => {
      const sample: LoadSample = { mode, start: now(), end: 0, status: 0, body: null, instance: null, error: null };
      let finished = false;
      const done = () => {
        if (finished) return;
        finished = true;
        sample.end = now();
        samples.push(sample);
        resolve();
      };
      const req = request({ host: "127.0.0.1", port, path: options.path ?? "/", agent, timeout: options.requestTimeoutMs ?? 10_000 }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => {
          sample.status = res.statusCode ?? 0;
          if (sample.status === 200) {
            sample.body = body;
            sample.instance = instanceOf(body);
          } else sample.error = `HTTP ${sample.status}: ${body.slice(0, 100)}`;
          done();
        });
        res.on("error", (error: NodeJS.ErrnoException) => {
          sample.error = error.code ?? error.message;
          done();
        });
      });
      req.on("timeout", () => req.destroy(Object.assign(new Error("timed out"), { code: "TIMEOUT" })));
      req.on("error", (error: NodeJS.ErrnoException) => {
        sample.error = error.code ?? error.message;
        done();
      });
      req.end();
    });
  const loops = modes.map(async (mode) => {
    let agent: Agent | false = false;
    if (mode === "keep-alive") {
      agent = new Agent({ keepAlive: true, maxSockets: 1 });
      agents.push(agent);
    }
    while (running && Date.now() < deadline) {
      const started = Date.now();
      await once(mode, agent);
      const idle = (options.intervalMs ?? 0) - (Date.now() - started);
      if (idle > 0) await sleep(idle);
    }
  });
  return {
    samples,
    async answered(count) {
      const target = samples.length + count;
      await waitFor(() => samples.length >= target || !running || Date.now() >= deadline, `${count} more requests to port ${port}`, 60_000, 5);
    },
    async stop() {
      running = false;
      await Promise.all(loops);
      for (const agent of agents) agent.destroy();
      return samples;
    },
  };
}

/** The instance id in an examples/hello answer: "... (v2, web-k3x9qa)". */
export function instanceOf(body: string | null): string | null {
  return body ? (/\(([^,]+), ([A-Za-z0-9_-]+)\)\s*$/.exec(body)?.[2] ?? null) : null;
}

/** One GET of http://127.0.0.1:<port>/, its body as text (a fresh connection each time). */
export async function get(port: number, path = "/"): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}${path}`)).text();
}

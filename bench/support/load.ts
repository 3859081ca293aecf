/**
 * A closed-loop HTTP load generator in Node (no wrk or hyperfine needed):
 * each worker sends a request, waits for the whole answer, sends the next.
 * "keep-alive" workers each hold one persistent connection; "close" workers
 * open a new connection per request (Connection: close).
 */
import { Agent, request } from "node:http";
import { instanceOf } from "./apps.js";
import { now } from "./cli.js";

export type LoadMode = "keep-alive" | "close";

export interface Sample {
  mode: LoadMode;
  /** Epoch ms, sub-millisecond precision. */
  start: number;
  end: number;
  /** HTTP status, or 0 when the request failed before an answer. */
  status: number;
  /** The instance named in the answer (examples/hello), when asked for. */
  instance: string | null;
  /** What went wrong: a socket error code, a timeout, or "HTTP 503". null for a 200. */
  error: string | null;
}

export interface LoadOptions {
  port: number;
  host?: string;
  path?: string;
  /** One entry per concurrent worker. */
  workers: LoadMode[];
  /** Parse the instance id out of each body (examples/hello). */
  instances?: boolean;
  requestTimeoutMs?: number;
}

export interface Load {
  samples: Sample[];
  stop(): Promise<Sample[]>;
}

export function startLoad(options: LoadOptions): Load {
  const samples: Sample[] = [];
  let running = true;
  const agents: Agent[] = [];
  const once = (mode: LoadMode, agent: Agent | false) =>
    new Promise<void>((resolve) => {
      const sample: Sample = { mode, start: now(), end: 0, status: 0, instance: null, error: null };
      let finished = false;
      const done = () => {
        if (finished) return;
        finished = true;
        sample.end = now();
        samples.push(sample);
        resolve();
      };
      const req = request(
        { host: options.host ?? "127.0.0.1", port: options.port, path: options.path ?? "/", agent, timeout: options.requestTimeoutMs ?? 10_000 },
        (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => (body += chunk));
          res.on("end", () => {
            sample.status = res.statusCode ?? 0;
            if (sample.status !== 200) sample.error = `HTTP ${sample.status}`;
            else if (options.instances) sample.instance = instanceOf(body);
            done();
          });
          res.on("error", (error: NodeJS.ErrnoException) => {
            sample.error = error.code ?? error.message;
            done();
          });
        },
      );
      req.on("timeout", () => req.destroy(Object.assign(new Error("timed out"), { code: "TIMEOUT" })));
      req.on("error", (error: NodeJS.ErrnoException) => {
        sample.error = error.code ?? error.message;
        done();
      });
      req.end();
    });
  const loops = options.workers.map(async (mode) => {
    let agent: Agent | false = false;
    if (mode === "keep-alive") {
      agent = new Agent({ keepAlive: true, maxSockets: 1 });
      agents.push(agent);
    }
    while (running) await once(mode, agent);
  });
  return {
    samples,
    async stop() {
      running = false;
      await Promise.all(loops);
      for (const agent of agents) agent.destroy();
      return samples;
    },
  };
}

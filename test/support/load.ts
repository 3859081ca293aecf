import { Agent, request } from "node:http";

export interface LoadSample {
  start: number;
  end: number;
  body: string | null;
  error: string | null;
}

export interface LoadRun {
  samples: LoadSample[];
  stop(): Promise<LoadSample[]>;
}

/**
 * Requests in a loop against 127.0.0.1:port until stopped (or maxMs passed):
 * `workers` concurrent loops, half on keep-alive connections and half with a
 * new connection per request.
 */
export function startLoad(port: number, options: { workers?: number; maxMs?: number; path?: string } = {}): LoadRun {
  const samples: LoadSample[] = [];
  const keepAlive = new Agent({ keepAlive: true, maxSockets: 8 });
  const deadline = Date.now() + (options.maxMs ?? 300_000);
  let running = true;
  const once = (agent: Agent | false) =>
    new Promise<void>((resolve) => {
      const sample: LoadSample = { start: Date.now(), end: 0, body: null, error: null };
      const done = () => {
        sample.end = Date.now();
        samples.push(sample);
        resolve();
      };
      const req = request({ host: "127.0.0.1", port, path: options.path ?? "/", agent, timeout: 10_000 }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => {
          if (res.statusCode === 200) sample.body = body;
          else sample.error = `HTTP ${res.statusCode}: ${body.slice(0, 100)}`;
          done();
        });
        res.on("error", (error) => {
          sample.error = error.message;
          done();
        });
      });
      req.on("timeout", () => req.destroy(new Error("timed out")));
      req.on("error", (error) => {
        sample.error = (error as NodeJS.ErrnoException).code ?? error.message;
        done();
      });
      req.end();
    });
  const loops = Array.from({ length: options.workers ?? 4 }, async (_, index) => {
    while (running && Date.now() < deadline) await once(index % 2 === 0 ? keepAlive : false);
  });
  return {
    samples,
    async stop() {
      running = false;
      await Promise.all(loops);
      keepAlive.destroy();
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

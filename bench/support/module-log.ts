/**
 * `node --import <this file> ...`: appends the URL of every module the process loads to the file
 * named by $SARGE_BENCH_MODULE_LOG, one per line (bench/cli-latency.ts counts what a sarge
 * command loads). ES modules are seen by a loader hook, which runs on Node's loader thread and so
 * writes to the file itself; CommonJS files (pino, yaml, handlebars... are CommonJS) by wrapping
 * Module._load on the main thread.
 */
import { appendFileSync } from "node:fs";
import Module, { isBuiltin, register } from "node:module";
import { pathToFileURL } from "node:url";

const log = process.env.SARGE_BENCH_MODULE_LOG;
if (log) {
  const hooks = `
import { appendFileSync } from "node:fs";
export async function load(url, context, nextLoad) {
  if (!url.startsWith("node:")) appendFileSync(${JSON.stringify(log)}, url + "\\n");
  return nextLoad(url, context);
}
`;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`);

  const seen = new Set<string>();
  const internal = Module as unknown as {
    _load(request: string, parent: unknown, isMain: boolean): unknown;
    _resolveFilename(request: string, parent: unknown, isMain: boolean): string;
  };
  const original = internal._load;
  internal._load = function (request, parent, isMain) {
    if (!isBuiltin(request)) {
      try {
        const filename = internal._resolveFilename(request, parent, isMain);
        if (!seen.has(filename)) {
          seen.add(filename);
          appendFileSync(log, `${pathToFileURL(filename).href} (commonjs)\n`);
        }
      } catch {
        // unresolvable: the real _load reports it
      }
    }
    return original.call(this, request, parent, isMain);
  };
}

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { Script } from "node:vm";

/**
 * A command bundle's V8 code cache, written beside it by `npm run build`
 * (scripts/bundle-cli.ts): with it a run skips compiling the code that loads
 * the bundle (docs/benchmarks.md, "CLI start in bundles").
 */
export function codeCacheFile(bundle: string): string {
  return `${bundle}${SUFFIX}`;
}

const SUFFIX = ".v8-cache";

/** A cache is made from its bundle by one Node build, and is not the same bytes twice: it is no part of what sarge is. */
export function isCodeCacheFile(file: string): boolean {
  return file.endsWith(SUFFIX);
}

/** How a bundle was compiled: from its cache, or from source because the cache was missing, made from other bytes, or refused by V8 (another Node build or flags). */
export type CacheOutcome = "used" | "missing" | "other-bundle" | "rejected-by-v8";

export interface LoadedBundle {
  exports: unknown;
  cache: CacheOutcome;
}

/** Node's CommonJS wrapper, on the source's first line so stack traces keep their line numbers. */
function wrapCommonJs(source: string): string {
  return `(function (exports, require, module, __filename, __dirname) { ${source}\n});`;
}

function sourceDigest(source: string): Buffer {
  return createHash("sha256").update(source).digest();
}

/**
 * What `require(bundle)` does, compiled with the bundle's code cache when
 * there is one for these bytes and V8 accepts it, from source otherwise.
 */
export function requireBundle(bundle: string): LoadedBundle {
  const source = readFileSync(bundle, "utf8");
  const cached = cachedDataFor(bundle, source);
  const script = run(bundle, source, typeof cached === "string" ? undefined : cached);
  const cache = typeof cached === "string" ? cached : script.cachedDataRejected ? "rejected-by-v8" : "used";
  return { exports: script.exports, cache };
}

/**
 * The cache file's bytes: the sha-256 of the bundle it is for, then V8's
 * data, taken after the bundle's top level ran so that the functions loading
 * its modules are in it too.
 */
export function makeCodeCache(bundle: string): Buffer {
  const source = readFileSync(bundle, "utf8");
  return Buffer.concat([sourceDigest(source), run(bundle, source, undefined).createCachedData()]);
}

/** V8 checks a cache only against the source's length; the digest makes sure it was made from these bytes. */
function cachedDataFor(bundle: string, source: string): Buffer | "missing" | "other-bundle" {
  let cache: Buffer;
  try {
    cache = readFileSync(codeCacheFile(bundle));
  } catch {
    return "missing";
  }
  const digest = sourceDigest(source);
  return cache.subarray(0, digest.length).equals(digest) ? cache.subarray(digest.length) : "other-bundle";
}

function run(bundle: string, source: string, cachedData: Buffer | undefined) {
  const script = new Script(wrapCommonJs(source), { filename: bundle, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, dirname(bundle));
  return { exports: module.exports, cachedDataRejected: script.cachedDataRejected === true, createCachedData: () => script.createCachedData() };
}

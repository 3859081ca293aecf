import { join } from "node:path";
import type { Readable } from "node:stream";
import { loadConfig } from "../../home/config.js";
import type { WebhookConfig } from "../../home/config-types.js";
import type { HomePaths } from "../../home/paths.js";
import { checkRef } from "../../util/git-ref.js";
import { HttpError } from "../http-error.js";
import { BodyTooLarge, readCappedBody } from "./capped-body.js";
import { Mirror, type Wanted } from "./mirror.js";

const mirrors = new Map<string, Mirror>();

/** The home's one mirror, so its fetches take turns. */
export function homeMirror(paths: HomePaths): Mirror {
  const dir = join(paths.webhook, "mirror.git");
  let mirror = mirrors.get(dir);
  if (!mirror) mirrors.set(dir, (mirror = new Mirror(dir)));
  return mirror;
}

/**
 * The deploy source of a webhook push and of `{"ref": …}` through the API,
 * when its release runs: what `wanted` names, fetched from `repository` into
 * the home's mirror, as the tar of `git archive <commit>`. A failed fetch
 * rejects with git's message, before any deploy starts.
 */
export async function refArchive(paths: HomePaths, repository: string, wanted: Wanted): Promise<Readable> {
  const mirror = homeMirror(paths);
  return mirror.archive(await mirror.resolve(repository, wanted));
}

/**
 * The deploy source of `POST /api/v1/releases` with `{"ref": "<commit, branch or tag>"}`,
 * checked at once (400 before anything is queued); the fetch happens when the release runs (refArchive).
 */
export function refDeploySource(paths: HomePaths, webhook: WebhookConfig, ref: unknown): Wanted {
  if (webhook.repository === null) {
    throw new HttpError(400, `deploys by ref need webhook.repository in ${paths.config} (the URL or path sarge fetches from); or send the archive itself as the body`);
  }
  if (typeof ref !== "string") throw new HttpError(400, '"ref" must be a string: a full commit id, a branch or a tag');
  try {
    checkRef(ref);
  } catch (error) {
    throw new HttpError(400, (error as Error).message);
  }
  return { ref };
}

/** Bytes a `{"ref": …}` request body may have. */
const maxRefRequestBytes = 64 * 1024;

/**
 * POST /api/v1/releases with `Content-Type: application/json`: the deploy
 * source of its `{"ref": …}` body; null for any other content type (a tar).
 */
export async function refRequestSource(paths: HomePaths, request: { headers: Record<string, string | string[] | undefined>; raw: Readable }): Promise<Wanted | null> {
  if (!/^application\/json\s*(?:;|$)/i.test(String(request.headers["content-type"] ?? ""))) return null;
  let body: Buffer;
  try {
    body = await readCappedBody(request.raw, Number(request.headers["content-length"] ?? 0), maxRefRequestBytes, maxRefRequestBytes);
  } catch (error) {
    if (error instanceof BodyTooLarge) throw new HttpError(413, `a {"ref": …} body is at most ${maxRefRequestBytes / 1024} KiB; send an archive as application/x-tar`);
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    throw new HttpError(400, 'the body is not JSON: send {"ref": "<commit, branch or tag>"}, or an archive as application/x-tar');
  }
  return refDeploySource(paths, loadConfig(paths).webhook, (parsed as { ref?: unknown } | null)?.ref);
}

import { join } from "node:path";
import { PassThrough, pipeline, type Readable } from "node:stream";
import type { HomePaths } from "../../home/paths.js";
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
 * The deploy source of a webhook push and of `{"ref": …}` through the API:
 * what `wanted` names, fetched from `repository` into the home's mirror, as
 * the tar of `git archive <commit>`. It fetches when first read, inside the
 * queued release; a failed fetch destroys the stream with its message.
 */
export function refArchive(paths: HomePaths, repository: string, wanted: Wanted): Readable {
  const out = new PassThrough();
  const mirror = homeMirror(paths);
  mirror.resolve(repository, wanted).then(
    (commit) => pipeline(mirror.archive(commit), out, () => undefined),
    (error: Error) => out.destroy(error),
  );
  return out;
}

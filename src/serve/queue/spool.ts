import { createWriteStream, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { HomePaths } from "../../home/paths.js";
import { HttpError } from "../http-error.js";

/** var/serve/spool/<id>.tar: the body of a deploy that has to wait, kept until it runs or is superseded. */
export function spoolPath(paths: HomePaths, id: number): string {
  return join(paths.root, "var", "serve", "spool", `${id}.tar`);
}

/**
 * Write `archive` to the spool file (0600), refusing more than `maxBytes`
 * (413): the archive caps bound what a deploy may unpack, so a body beyond
 * them never deploys. A failed spool leaves no file.
 */
export async function spoolArchive(paths: HomePaths, id: number, archive: Readable, maxBytes: number): Promise<string> {
  const file = spoolPath(paths, id);
  mkdirSync(join(paths.root, "var", "serve", "spool"), { recursive: true, mode: 0o700 });
  let seen = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > maxBytes) done(new HttpError(413, `the archive is larger than ${maxBytes} bytes, the most a deploy takes here (archive.max_bytes and its headers)`));
      else done(null, chunk);
    },
  });
  try {
    await pipeline(archive, cap, createWriteStream(file, { mode: 0o600 }));
    return file;
  } catch (error) {
    rmSync(file, { force: true });
    throw error;
  }
}

import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { packageRoot } from "../../src/util/package-root.js";

export const helloDir = join(packageRoot, "examples", "hello");

/**
 * A copy of examples/hello with edits applied (file path -> new content, or a
 * function of the old content; null deletes), packed as a plain tar.
 */
export function helloArchive(edits: Record<string, string | null | ((old: string) => string)> = {}): Buffer {
  const dir = mkdtempSync(join(tmpdir(), "sarge-app-"));
  try {
    cpSync(helloDir, dir, { recursive: true });
    for (const [file, edit] of Object.entries(edits)) {
      const path = join(dir, file);
      if (edit === null) rmSync(path, { force: true });
      else writeFileSync(path, typeof edit === "function" ? edit(readFileSync(path, "utf8")) : edit);
    }
    return execFileSync("tar", ["-C", dir, "-c", "."], { maxBuffer: 64 * 1024 * 1024 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** examples/hello answering with VERSION = version. */
export function helloVersion(version: string, edits: Parameters<typeof helloArchive>[0] = {}): Buffer {
  return helloArchive({ "app.py": (old) => old.replace(/VERSION = "v1"/, `VERSION = "${version}"`), ...edits });
}

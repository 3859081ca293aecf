/** Archives of examples/hello, as `git archive` would send them (plain tar). */
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packageRoot } from "../../src/package-root.js";

export const helloDir = join(packageRoot, "examples", "hello");

export type Edit = string | null | ((old: string) => string);

/** A copy of examples/hello with edits (path → content, function of the old content, or null to delete), as a tar. */
export function helloArchive(edits: Record<string, Edit> = {}): Buffer {
  const dir = mkdtempSync(join(tmpdir(), "sarge-bench-app-"));
  try {
    cpSync(helloDir, dir, { recursive: true });
    for (const [file, edit] of Object.entries(edits)) {
      const path = join(dir, file);
      if (edit === null) rmSync(path, { force: true });
      else writeFileSync(path, typeof edit === "function" ? edit(readFileSync(path, "utf8")) : edit);
    }
    return execFileSync("tar", ["-C", dir, "-c", "."], { maxBuffer: 256 * 1024 * 1024 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** examples/hello answering with VERSION = version. */
export function helloVersion(version: string, edits: Record<string, Edit> = {}): Buffer {
  return helloArchive({ "app.py": (old) => old.replace(/VERSION = "v1"/, `VERSION = "${version}"`), ...edits });
}

/** The instance id in an examples/hello answer: "... (v2, web-k3x9qa)". */
export function instanceOf(body: string | null): string | null {
  return body ? (/\(([^,]+), ([A-Za-z0-9_-]+)\)\s*$/.exec(body)?.[2] ?? null) : null;
}

import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { helloDir } from "./apps.js";

/**
 * A real git repository made by a test: a work tree at `dir` whose commits
 * can be pushed to a bare repository, as a developer's checkout and GitHub.
 */
export class GitRepo {
  constructor(readonly dir: string) {}

  static init(dir: string, branch = "main"): GitRepo {
    mkdirSync(dir, { recursive: true });
    const repo = new GitRepo(dir);
    repo.git("init", "--quiet", "--initial-branch", branch);
    return repo;
  }

  /** A bare repository at `dir`, as a hosted one. */
  static bare(dir: string): string {
    execFileSync("git", ["init", "--quiet", "--bare", dir]);
    return dir;
  }

  git(...args: string[]): string {
    return execFileSync("git", ["-C", this.dir, "-c", "user.name=Test", "-c", "user.email=test@example.invalid", ...args], { encoding: "utf8" }).trim();
  }

  /** Writes `files` (path → content), commits them all, returns the commit id. */
  commit(files: Record<string, string | Buffer>, message = "change"): string {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(this.dir, path)), { recursive: true });
      writeFileSync(join(this.dir, path), content);
    }
    this.git("add", "--all");
    this.git("commit", "--quiet", "--allow-empty", "-m", message);
    return this.git("rev-parse", "HEAD");
  }
}

/** examples/hello answering with `version` (with `more` files added or replaced), committed in `work` and pushed to `branch` of the bare repository `origin`; returns the commit id. */
export function pushHelloVersion(work: GitRepo, origin: string, version: string, branch = "main", more: Record<string, string> = {}): string {
  const files = { ...Object.fromEntries(readdirSync(helloDir).map((name) => [name, readFileSync(join(helloDir, name), "utf8")])), ...more };
  files["app.py"] = files["app.py"]!.replace('VERSION = "v1"', `VERSION = "${version}"`);
  const commit = work.commit(files, `hello ${version}`);
  work.git("push", "--quiet", origin, `HEAD:refs/heads/${branch}`);
  return commit;
}

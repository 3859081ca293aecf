import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { PassThrough, type Readable } from "node:stream";
import { SargeError } from "../../util/errors.js";
import { checkRef, isCommitId } from "../../util/git-ref.js";
import { gitMessage, runGit, spawnGit } from "./git.js";

const fetchTimeoutMs = 10 * 60_000;
/** Where the last fetch lands: a ref of sarge's own, never a branch of the repository. */
const fetchedRef = "refs/sarge/fetched";

/** What to deploy: a ref name or commit id, and for a push the commit it moved the ref to. */
export interface Wanted {
  ref: string;
  commit?: string;
}

export interface MirrorCommit {
  id: string;
  committedAt: string;
  subject: string;
}

/**
 * A bare mirror of the configured repository (webhook.repository: any URL or
 * path git fetches from), made on first use. Each deploy fetches what it
 * needs into it and archives one commit with `git archive`, whose pax header
 * carries the commit id the deploy records (src/archive/input.ts).
 */
export class Mirror {
  private turn: Promise<unknown> = Promise.resolve();

  constructor(readonly dir: string) {}

  /** Fetches what `wanted` names from `repository` and returns its commit id; one fetch at a time. */
  async resolve(repository: string, wanted: Wanted): Promise<string> {
    const ref = checkRef(wanted.ref);
    const commit = wanted.commit === undefined ? undefined : checkRef(wanted.commit);
    const next = this.turn.then(async () => {
      await this.ensure();
      return new Fetch(this.dir, repository).commitOf(ref, commit);
    });
    this.turn = next.catch(() => undefined);
    return next;
  }

  /** The latest `count` commits of `commit`'s history, newest first (the dashboard's /deploy lists them). */
  async commitsOf(commit: string, count: number): Promise<MirrorCommit[]> {
    const result = await runGit(["-C", this.dir, "log", `--max-count=${count}`, "--format=%H%x09%cI%x09%s", "--end-of-options", checkRef(commit)], fetchTimeoutMs);
    if (result.code !== 0) throw new SargeError(`cannot list the commits of ${commit} in ${this.dir}: ${gitMessage(result.stderr)}`);
    return result.stdout
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => {
        const [id, committedAt, ...subject] = line.split("\t");
        return { id: id!, committedAt: committedAt!, subject: subject.join("\t") };
      });
  }

  /** `git archive --format=tar <commit>` as a stream; git's failure destroys it with git's message. */
  archive(commit: string): Readable {
    const out = new PassThrough();
    const child = spawnGit(["-C", this.dir, "archive", "--format=tar", checkRef(commit)]);
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout!.pipe(out, { end: false });
    child.once("error", (error) => out.destroy(new SargeError(`git archive could not run: ${error.message}`)));
    child.once("close", (code) => {
      if (code === 0) out.end();
      else out.destroy(new SargeError(`git archive ${commit} failed in ${this.dir}: ${gitMessage(stderr)}`));
    });
    out.once("close", () => {
      if (child.exitCode === null) child.kill("SIGKILL");
    });
    return out;
  }

  /** `git init --bare` in a folder beside the mirror, renamed into place: a crash never leaves half a mirror. */
  private async ensure(): Promise<void> {
    if (existsSync(join(this.dir, "HEAD"))) return;
    mkdirSync(dirname(this.dir), { recursive: true, mode: 0o700 });
    const temp = `${this.dir}.${process.pid}.tmp`;
    rmSync(temp, { recursive: true, force: true });
    const init = await runGit(["init", "--bare", "--quiet", temp], fetchTimeoutMs);
    if (init.code !== 0) throw new SargeError(`cannot create the mirror ${this.dir}: ${gitMessage(init.stderr)}`);
    renameSync(temp, this.dir);
  }
}

/** The fetches of one deploy, into the mirror at `dir`. */
class Fetch {
  constructor(
    private readonly dir: string,
    private readonly repository: string,
  ) {}

  /** The commit `ref` names, or for a push the commit (or annotated tag) it moved `ref` to, once fetched. */
  async commitOf(ref: string, pushed: string | undefined): Promise<string> {
    if (pushed === undefined && isCommitId(ref)) return this.byId(ref);
    await this.fetch(ref);
    return pushed === undefined ? this.peel(fetchedRef, ref) : this.byId(pushed);
  }

  /** An object by id: from the mirror when it has it (the ref's fetch brought it), else fetched by id (GitHub and git's protocol v2 allow it). */
  private async byId(id: string): Promise<string> {
    if (!(await this.has(id))) await this.fetch(id);
    return this.peel(id, id);
  }

  private async fetch(ref: string): Promise<void> {
    const args = ["-C", this.dir, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--no-recurse-submodules", "--end-of-options"];
    const result = await runGit([...args, this.repository, `+${ref}:${fetchedRef}`], fetchTimeoutMs);
    if (result.code !== 0) {
      throw new SargeError(`cannot fetch ${ref} from ${withoutCredentials(this.repository)}: ${withoutCredentials(gitMessage(result.stderr))}`);
    }
  }

  private async has(commit: string): Promise<boolean> {
    const result = await runGit(["-C", this.dir, "cat-file", "-e", "--end-of-options", `${commit}^{commit}`], fetchTimeoutMs);
    return result.code === 0;
  }

  /** The commit `name` is or points to (an annotated tag is peeled). */
  private async peel(name: string, what: string): Promise<string> {
    const result = await runGit(["-C", this.dir, "rev-parse", "--verify", "--quiet", "--end-of-options", `${name}^{commit}`], fetchTimeoutMs);
    const commit = result.stdout.trim();
    if (result.code !== 0 || !isCommitId(commit)) throw new SargeError(`${what} in ${withoutCredentials(this.repository)} is not a commit`);
    return commit;
  }
}

/** A repository URL (or git's message naming it) as shown in messages and logs: a URL's user name and password are left out. */
export function withoutCredentials(text: string): string {
  return text.replace(/(\w+:\/\/)[^/@\s]+@/g, "$1***@");
}

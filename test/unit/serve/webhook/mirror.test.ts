import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buffer } from "node:stream/consumers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HomePaths } from "../../../../src/home/paths.js";
import type { WebhookConfig } from "../../../../src/home/config-types.js";
import { HttpError } from "../../../../src/serve/http-error.js";
import { homeMirror, refArchive, refDeploySource } from "../../../../src/serve/webhook/source.js";
import { checkRef } from "../../../../src/util/git-ref.js";
import { Mirror, withoutCredentials } from "../../../../src/serve/webhook/mirror.js";
import { GitRepo } from "../../../support/git-repo.js";

let root: string;
let origin: string;
let work: GitRepo;
let first: string;
let second: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "sarge-mirror-"));
  origin = GitRepo.bare(join(root, "origin.git"));
  work = GitRepo.init(join(root, "work"));
  first = work.commit({ "app.py": "v1\n" }, "one");
  work.git("tag", "-a", "-m", "release 1", "v1");
  second = work.commit({ "app.py": "v2\n" }, "two");
  work.git("push", "--quiet", origin, "main", "v1");
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function commitOfArchive(tar: Buffer): string {
  return spawnSync("git", ["get-tar-commit-id"], { input: tar, encoding: "utf8" }).stdout.trim();
}

describe("the mirror", () => {
  it("is made on first use and resolves a branch, an annotated tag and a commit id", async () => {
    const mirror = new Mirror(join(root, "var", "webhook", "mirror.git"));
    expect(existsSync(mirror.dir)).toBe(false);
    expect(await mirror.resolve(origin, { ref: "main" })).toBe(second);
    expect(existsSync(join(mirror.dir, "HEAD"))).toBe(true);
    expect(await mirror.resolve(origin, { ref: "v1" })).toBe(first);
    expect(await mirror.resolve(origin, { ref: "refs/tags/v1" })).toBe(first);
    expect(await new Mirror(join(root, "by-id.git")).resolve(origin, { ref: first })).toBe(first);
  });

  it("archives the pushed commit, whose id the archive carries, even after the branch moved on", async () => {
    const mirror = new Mirror(join(root, "push.git"));
    const pushed = work.commit({ "app.py": "v3\n" }, "three");
    work.git("push", "--quiet", origin, "main");
    work.commit({ "app.py": "v4\n" }, "four");
    work.git("push", "--quiet", origin, "main");
    expect(await mirror.resolve(origin, { ref: "refs/heads/main", commit: pushed })).toBe(pushed);
    const tar = await buffer(mirror.archive(pushed));
    expect(commitOfArchive(tar)).toBe(pushed);
    expect(tar.includes(Buffer.from("v3\n"))).toBe(true);
  });

  it("deploys the commit of a pushed annotated tag, whose after is the tag object", async () => {
    const mirror = new Mirror(join(root, "tag-push.git"));
    const tagObject = work.git("rev-parse", "v1");
    expect(tagObject).not.toBe(first);
    expect(await mirror.resolve(origin, { ref: "refs/tags/v1", commit: tagObject })).toBe(first);
  });

  it("says which ref or commit the repository lacks", async () => {
    const mirror = new Mirror(join(root, "missing.git"));
    await expect(mirror.resolve(origin, { ref: "nope" })).rejects.toThrow(`cannot fetch nope from ${origin}: fatal: couldn't find remote ref nope`);
    // git and its upload-pack both say so, in either order
    await expect(mirror.resolve(origin, { ref: "d".repeat(40) })).rejects.toThrow(new RegExp(`^cannot fetch d{40} from ${origin}: fatal: .*upload-pack: not our ref d{40}$`));
  });

  it("says when the repository cannot be reached, without prompting", async () => {
    const mirror = new Mirror(join(root, "gone.git"));
    await expect(mirror.resolve(join(root, "no-such-repo.git"), { ref: "main" })).rejects.toThrow(`cannot fetch main from ${join(root, "no-such-repo.git")}: fatal: '${join(root, "no-such-repo.git")}' does not appear to be a git repository`);
  });

  it("fails the archive stream with git's message when the commit is unknown", async () => {
    const mirror = new Mirror(join(root, "var", "webhook", "mirror.git"));
    await expect(buffer(mirror.archive("e".repeat(40)))).rejects.toThrow(/^git archive e{40} failed in .*: fatal: not a tree object/);
  });

  it("never hands git an option or a revision expression as a ref", async () => {
    const mirror = new Mirror(join(root, "hostile.git"));
    await expect(mirror.resolve(origin, { ref: "--upload-pack=touch /tmp/pwned" })).rejects.toThrow('"--upload-pack=touch /tmp/pwned" is not a commit id or a ref name: it starts with -');
    for (const bad of ["main~1", "main^{tree}", "a b", "main@{1}", "a..b", "x:y", ""]) expect(() => checkRef(bad)).toThrow(/is not a commit id or a ref name/);
    expect(existsSync(mirror.dir)).toBe(false);
  });

  it("leaves a URL's password out of what it shows", () => {
    expect(withoutCredentials("https://deploy:ghp_s3cret@github.com/acme/app.git")).toBe("https://***@github.com/acme/app.git");
    expect(withoutCredentials("git@github.com:acme/app.git")).toBe("git@github.com:acme/app.git");
  });
});

describe("refArchive, the deploy source", () => {
  const paths = () => ({ webhook: join(root, "home-var-webhook") }) as HomePaths;

  it("streams the tar of the commit the ref names, once fetched", async () => {
    const tar = await buffer(await refArchive(paths(), origin, { ref: "v1" }));
    expect(commitOfArchive(tar)).toBe(first);
    expect(homeMirror(paths()).dir).toBe(join(root, "home-var-webhook", "mirror.git"));
  });

  it("rejects with the fetch's error before any archive", async () => {
    await expect(refArchive(paths(), origin, { ref: "no-such-branch" })).rejects.toThrow(`cannot fetch no-such-branch from ${origin}: fatal: couldn't find remote ref no-such-branch`);
  });
});

describe('refDeploySource, for {"ref": …} through the API', () => {
  const paths = () => ({ webhook: join(root, "api-var-webhook"), config: "/srv/app/etc/sarge.yaml" }) as HomePaths;
  const webhook = (repository: string | null): WebhookConfig => ({ secret: null, repository, branch: null, tags: null, procs: null });

  it("checks the ref at once and leaves the fetch to the release", () => {
    expect(refDeploySource(paths(), webhook(origin), first)).toEqual({ ref: first });
    expect(existsSync(join(root, "api-var-webhook"))).toBe(false);
  });

  it.each([
    [null, "main", "deploys by ref need webhook.repository in /srv/app/etc/sarge.yaml (the URL or path sarge fetches from); or send the archive itself as the body"],
    ["/srv/git/app.git", 42, '"ref" must be a string: a full commit id, a branch or a tag'],
    ["/srv/git/app.git", "-c core.sshCommand=evil", '"-c core.sshCommand=evil" is not a commit id or a ref name: it starts with -'],
    ["/srv/git/app.git", "HEAD@{1}", expect.stringMatching(/^"HEAD@\{1\}" is not a commit id or a ref name: git check-ref-format refuses it/)],
  ])("refuses with 400: repository %j, ref %j", (repository, ref, message) => {
    let refusal: unknown;
    try {
      refDeploySource(paths(), webhook(repository), ref);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(HttpError);
    expect(refusal).toMatchObject({ statusCode: 400, message });
  });
});

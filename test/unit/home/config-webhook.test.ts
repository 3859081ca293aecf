import { describe, expect, it } from "vitest";
import { configFile, configRefusal, minimalConfig, parseConfigText } from "./config-text.js";

const secret = "0123456789abcdef0123456789abcdef";

function webhook(block: string) {
  return parseConfigText(`${minimalConfig}webhook:\n${block}`).webhook;
}

const refusal = (block: string): string => configRefusal(`${minimalConfig}webhook:\n${block}`).message;

describe("webhook: in etc/sarge.yaml", () => {
  it("is off without the block", () => {
    expect(parseConfigText(minimalConfig).webhook).toEqual({ secret: null, repository: null, branch: null, tags: null, procs: null });
  });

  it("reads every key", () => {
    expect(webhook(`  secret: ${secret}\n  repository: git@github.com:acme/app.git\n  branch: release/1.x\n  tags: "v*"\n  procs: [web, worker]\n`)).toEqual({
      secret,
      repository: "git@github.com:acme/app.git",
      branch: "release/1.x",
      tags: "v*",
      procs: ["web", "worker"],
    });
  });

  it("takes a repository alone, for deploys by ref through the API", () => {
    expect(webhook("  repository: https://github.com/acme/app.git\n").repository).toBe("https://github.com/acme/app.git");
  });

  it.each([
    [`  secret: ${secret}\n  branch: main\n`, `${configFile}: webhook.secret is set but webhook.repository is not: give the URL or path sarge fetches pushed commits from`],
    [`  secret: ${secret}\n  repository: /srv/git/app.git\n`, `${configFile}: webhook: say what a push deploys: branch (like main) or tags (a pattern like "v*"), or both`],
    ["  repository: ../app.git\n", `${configFile}: webhook.repository: expected a URL (https://…, ssh://…), user@host:path, or an absolute path, got "../app.git"`],
    ["  repository: --upload-pack=evil\n", `${configFile}: webhook.repository: expected a repository URL or absolute path (no spaces, not starting with -), got "--upload-pack=evil"`],
    ["  branch: main~1\n", `${configFile}: webhook.branch: expected a branch name (git check-ref-format refuses it (no spaces, ~ ^ : ? * [ \\, .., @{ or a trailing . or /)), got "main~1"`],
    ["  branch: refs/heads/main\n", `${configFile}: webhook.branch: expected a branch name (give the branch name without refs/heads/), got "refs/heads/main"`],
    ['  tags: "v 1*"\n', `${configFile}: webhook.tags: expected a tag pattern like "v*" (git check-ref-format refuses it (no spaces, ~ ^ : ? * [ \\, .., @{ or a trailing . or /)), got "v 1*"`],
    ["  procs: web\n", `${configFile}: webhook.procs: expected a list of process types, like [web, worker], got "web"`],
    ["  procs: [web, 'a b']\n", `${configFile}: webhook.procs[1]: expected a process type of letters, digits, _ and -, got "a b"`],
    ["  secrets: x\n", `${configFile}: unknown key 'webhook.secrets' (known keys: secret, repository, branch, tags, procs)`],
  ])("refuses %j", (block, message) => {
    expect(refusal(block)).toBe(message);
  });

  it.each(["short-secret", 1234567890123456789, `" ${secret}"`])("refuses the weak or odd secret %j without showing it", (value) => {
    const message = refusal(`  secret: ${value}\n  repository: /srv/git/app.git\n  branch: main\n`);
    expect(message).toBe(
      `${configFile}: webhook.secret: expected a string of at least 16 characters without surrounding spaces (the value is not shown); make one with: openssl rand -hex 32`,
    );
  });
});

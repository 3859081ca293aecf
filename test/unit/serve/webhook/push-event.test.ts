import { describe, expect, it } from "vitest";
import type { WebhookConfig } from "../../../../src/home/config-types.js";
import { BadDelivery, decide, tagMatches } from "../../../../src/serve/webhook/push-event.js";

const webhook: WebhookConfig = { secret: "s".repeat(32), repository: "/srv/git/app.git", branch: "main", tags: "v*", procs: null };
const after = "a".repeat(40);
const push = (fields: Record<string, unknown>) => ({ after, pusher: { name: "octocat" }, sender: { login: "octo-sender" }, ...fields });

describe("what a signed delivery does", () => {
  it("answers a ping", () => {
    expect(decide("ping", { zen: "x" }, webhook)).toEqual({ action: "ping" });
  });

  it("deploys a push to the branch, as the pusher", () => {
    expect(decide("push", push({ ref: "refs/heads/main" }), webhook)).toEqual({ action: "deploy", ref: "refs/heads/main", commit: after, who: "github:octocat" });
  });

  it("deploys a tag matching the pattern, falling back to the sender's login", () => {
    expect(decide("push", { ref: "refs/tags/v1.2", after, sender: { login: "octo-sender" } }, webhook)).toMatchObject({ action: "deploy", who: "github:octo-sender" });
  });

  it.each([
    ["push", push({ ref: "refs/heads/feature" }), "refs/heads/feature is not what webhook deploys (branch main and tags v*)"],
    ["push", push({ ref: "refs/tags/release-1" }), "refs/tags/release-1 is not what webhook deploys (branch main and tags v*)"],
    ["push", push({ ref: "refs/heads/main", deleted: true, after: "0".repeat(40) }), "refs/heads/main was deleted"],
    ["issues", {}, "the issues event deploys nothing: only push does"],
    [undefined, {}, "a delivery without X-GitHub-Event deploys nothing: only push does"],
  ])("ignores %s %j", (event, payload, reason) => {
    expect(decide(event, payload, webhook)).toEqual({ action: "ignore", reason });
  });

  it.each([
    [{ after }, 'push payload without a "ref" like refs/heads/main'],
    [{ ref: "main", after }, 'push payload without a "ref" like refs/heads/main'],
    [{ ref: "refs/heads/main", after: "--upload-pack=x" }, 'push payload without an "after" commit id'],
    [null, 'push payload without a "ref" like refs/heads/main'],
  ])("refuses the malformed push %j", (payload, message) => {
    expect(() => decide("push", payload, webhook)).toThrow(new BadDelivery(message));
  });

  it("keeps only a name's plain characters for history", () => {
    expect(decide("push", push({ ref: "refs/heads/main", pusher: { name: "eve\n$(rm -rf /)" } }), webhook)).toMatchObject({ who: "github:eve___rm_-rf___" });
  });

  it.each([
    ["v*", "v1.2.3", true],
    ["v*", "release", false],
    ["v?.?", "v1.2", true],
    ["v?.?", "v1x2", false],
    ["release-*", "release-2026.12", true],
  ])("tag pattern %s against %s: %s", (pattern, tag, matches) => {
    expect(tagMatches(pattern, tag)).toBe(matches);
  });
});

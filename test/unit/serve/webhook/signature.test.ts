import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { checkSignature, signBody } from "../../../../src/serve/webhook/signature.js";

const secret = "it-is-a-secret-of-some-length";
const body = Buffer.from('{"zen":"Keep it logically awesome."}');
const githubStyle = `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

describe("X-Hub-Signature-256", () => {
  it("accepts GitHub's signature of the raw bytes", () => {
    expect(signBody(secret, body)).toBe(githubStyle);
    expect(checkSignature(secret, body, githubStyle)).toEqual({ ok: true });
  });

  it("refuses a missing header, saying where the secret goes", () => {
    expect(checkSignature(secret, body, undefined)).toEqual({
      ok: false,
      reason: "missing X-Hub-Signature-256 header: set the webhook's Secret on GitHub to webhook.secret of etc/sarge.yaml",
    });
  });

  it.each([
    ["another secret", signBody("another-secret-entirely", body)],
    ["a changed body", signBody(secret, Buffer.from('{"zen":"Keep it logically awesome." }'))],
    ["the sha1 header's form", `sha1=${createHmac("sha1", secret).update(body).digest("hex")}`],
    ["a truncated signature", githubStyle.slice(0, -1)],
    ["upper-case hex", githubStyle.toUpperCase().replace("SHA256", "sha256")],
    ["an empty header", ""],
    ["two headers", [githubStyle, githubStyle]],
  ])("refuses %s", (_, header) => {
    expect(checkSignature(secret, body, header)).toEqual({
      ok: false,
      reason: "bad signature: X-Hub-Signature-256 does not match the body signed with webhook.secret of etc/sarge.yaml",
    });
  });
});

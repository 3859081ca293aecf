import { createHmac, timingSafeEqual } from "node:crypto";

/** GitHub's header for the HMAC-SHA256 of the request body, keyed with the webhook's secret. */
export const signatureHeader = "x-hub-signature-256";

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/** `sha256=<hex>`, as GitHub writes it for `body` signed with `secret`. */
export function signBody(secret: string, body: Buffer): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/**
 * Checks `header` against the HMAC of the raw body bytes, before anything
 * parses them; the comparison takes the same time wherever the bytes differ.
 */
export function checkSignature(secret: string, body: Buffer, header: string | string[] | undefined): SignatureCheck {
  if (header === undefined) {
    return { ok: false, reason: "missing X-Hub-Signature-256 header: set the webhook's Secret on GitHub to webhook.secret of etc/sarge.yaml" };
  }
  const given = Buffer.from(Array.isArray(header) ? header.join(",") : header, "utf8");
  const expected = Buffer.from(signBody(secret, body), "utf8");
  // timingSafeEqual throws on unequal lengths; the length of a sha256 signature is no secret
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: "bad signature: X-Hub-Signature-256 does not match the body signed with webhook.secret of etc/sarge.yaml" };
  }
  return { ok: true };
}

import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { homePaths, type HomePaths } from "../../../src/home/paths.js";
import { addToken, listTokens, revokeToken, tokensPath, verifyToken } from "../../../src/serve/tokens.js";

describe("tokens (etc/tokens.json)", () => {
  let paths: HomePaths;
  beforeEach(() => {
    paths = homePaths(join(mkdtempSync(join(tmpdir(), "sarge-tokens-")), "home"));
    mkdirSync(paths.etc, { recursive: true });
  });
  afterEach(() => rmSync(join(paths.root, ".."), { recursive: true, force: true }));

  it("stores only a hash, in a file only the owner reads", () => {
    const { secret } = addToken(paths, { name: "ci", role: "deployer" });
    const file = readFileSync(tokensPath(paths), "utf8");
    expect(file).not.toContain(secret);
    expect(file).not.toContain(secret.slice(6, 30));
    expect(statSync(tokensPath(paths)).mode & 0o777).toBe(0o600);
    expect(secret).toMatch(/^sarge_[A-Za-z0-9_-]{43}$/);
  });

  it("verifies a token and refuses unknown, expired and revoked ones, saying which", () => {
    const now = new Date("2026-03-02T10:00:00Z");
    const ci = addToken(paths, { name: "ci", role: "deployer", expires: "90d" }, now);
    expect(ci.record.expiresAt).toBe("2026-05-31T10:00:00.000Z");
    expect(verifyToken(paths, ci.secret, now)).toMatchObject({ ok: true, token: { name: "ci", role: "deployer" } });
    expect(verifyToken(paths, ci.secret + "x", now)).toEqual({ ok: false, reason: expect.stringContaining("unknown token") });
    expect(verifyToken(paths, ci.secret, new Date("2026-06-01T00:00:00Z"))).toEqual({
      ok: false,
      reason: "token ci expired on 2026-05-31T10:00:00.000Z: ask an admin for a new one (sarge token add)",
    });
    revokeToken(paths, "ci", now);
    expect(verifyToken(paths, ci.secret, now)).toEqual({ ok: false, reason: "token ci was revoked on 2026-03-02T10:00:00.000Z: ask an admin for a new one" });
  });

  it("refuses bad names, roles, expiries, windows and a second live token of one name", () => {
    expect(() => addToken(paths, { name: "../etc", role: "viewer" })).toThrow('invalid token name "../etc"');
    expect(() => addToken(paths, { name: "ann", role: "root" })).toThrow('invalid role "root": use one of viewer, deployer, admin');
    expect(() => addToken(paths, { name: "ann", role: "viewer", expires: "soon" })).toThrow('invalid --expires "soon"');
    expect(() => addToken(paths, { name: "ann", role: "viewer", window: "weekdays 9-5" })).toThrow('invalid deploy window "weekdays 9-5"');
    addToken(paths, { name: "ann", role: "viewer" });
    expect(() => addToken(paths, { name: "ann", role: "admin" })).toThrow("a token named ann already exists: revoke it first (sarge token revoke ann)");
    revokeToken(paths, "ann");
    expect(() => revokeToken(paths, "ann")).toThrow("token ann was already revoked");
    expect(() => revokeToken(paths, "bob")).toThrow("no token named bob");
    addToken(paths, { name: "ann", role: "admin" });
    expect(listTokens(paths)).toEqual([expect.objectContaining({ name: "ann", role: "admin", revokedAt: null })]);
    expect(listTokens(paths)[0]).not.toHaveProperty("hash");
  });
});

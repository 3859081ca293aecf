import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { HomePaths } from "../home/paths.js";
import { parseDuration } from "../home/duration.js";
import { writeFileAtomic } from "../util/atomic-file.js";
import { ConfigError, SargeError } from "../util/errors.js";
import { isRole, roles, type Role } from "./roles.js";
import { parseWindow } from "./windows.js";

/** One token in etc/tokens.json: its hash only, never the token itself. */
export interface TokenRecord {
  name: string;
  role: Role;
  /** sha256 of the token, hex. The token is 32 random bytes, so a plain hash cannot be searched back. */
  hash: string;
  createdAt: string;
  expiresAt: string | null;
  /** A deploy window like "mon-fri 08:00-18:00" (src/serve/windows.ts), or null for any time. */
  window: string | null;
  revokedAt: string | null;
}

/** What `sarge token list` and the API show: everything but the hash. */
export type TokenView = Omit<TokenRecord, "hash">;

export type TokenCheck = { ok: true; token: TokenRecord } | { ok: false; reason: string };

const namePattern = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/;
const tokenPrefix = "sarge_";

export function tokensPath(paths: HomePaths): string {
  return join(paths.etc, "tokens.json");
}

export function readTokens(paths: HomePaths): TokenRecord[] {
  let text: string;
  try {
    text = readFileSync(tokensPath(paths), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new SargeError(`cannot read ${tokensPath(paths)}: ${(error as Error).message}`);
  }
  try {
    return (JSON.parse(text) as { tokens: TokenRecord[] }).tokens;
  } catch {
    throw new SargeError(`${tokensPath(paths)} is not valid JSON: fix or remove it, then add the tokens again`);
  }
}

function writeTokens(paths: HomePaths, tokens: TokenRecord[]): void {
  writeFileAtomic(tokensPath(paths), JSON.stringify({ tokens }, null, 2) + "\n", 0o600);
}

export interface NewToken {
  name: string;
  role: string;
  /** A duration like "90d" or "12h"; none = never expires. */
  expires?: string;
  window?: string;
}

/** Make a token: returns it (shown once) and its record; only the hash is stored. A revoked token's name may be used again. */
export function addToken(paths: HomePaths, request: NewToken, now = new Date()): { secret: string; record: TokenRecord } {
  if (!namePattern.test(request.name)) {
    throw new ConfigError(`invalid token name "${request.name}": up to 64 letters, digits, _ . @ and -, starting with a letter or digit`);
  }
  if (!isRole(request.role)) throw new ConfigError(`invalid role "${request.role}": use one of ${roles.join(", ")}`);
  const tokens = readTokens(paths);
  const existing = tokens.find((token) => token.name === request.name);
  if (existing && existing.revokedAt === null) {
    throw new ConfigError(`a token named ${request.name} already exists: revoke it first (sarge token revoke ${request.name}) or pick another name`);
  }
  const secret = tokenPrefix + randomBytes(32).toString("base64url");
  const record: TokenRecord = {
    name: request.name,
    role: request.role,
    hash: hashToken(secret),
    createdAt: now.toISOString(),
    expiresAt: request.expires === undefined ? null : new Date(now.getTime() + expiryMs(request.expires)).toISOString(),
    window: request.window === undefined ? null : parseWindow(request.window).text,
    revokedAt: null,
  };
  writeTokens(paths, [...tokens.filter((token) => token.name !== request.name), record]);
  return { secret, record };
}

function expiryMs(text: string): number {
  const ms = parseDuration(text);
  if (ms === null || ms <= 0) throw new ConfigError(`invalid --expires "${text}": expected a duration like "90d", "12h" or "30m"`);
  return ms;
}

export function listTokens(paths: HomePaths): TokenView[] {
  return readTokens(paths).map(({ hash: _hash, ...view }) => view);
}

/** Revoked tokens stay listed (and refused with "revoked") until their name is used again. */
export function revokeToken(paths: HomePaths, name: string, now = new Date()): TokenRecord {
  const tokens = readTokens(paths);
  const token = tokens.find((candidate) => candidate.name === name);
  if (!token) throw new SargeError(`no token named ${name} (sarge token list shows them)`);
  if (token.revokedAt !== null) throw new SargeError(`token ${name} was already revoked on ${token.revokedAt}`);
  token.revokedAt = now.toISOString();
  writeTokens(paths, tokens);
  return token;
}

interface KnownTokens {
  stamp: string;
  tokens: readonly Readonly<TokenRecord>[];
  hashes: Buffer[];
}

const known = new Map<string, KnownTokens>();

/**
 * The tokens as of the file's current version, read and parsed again only
 * when it changed (another inode, size or time: sarge token add and revoke
 * replace it whole), so a revoke takes effect at the next request while a
 * server answering many requests reads it once. Read-only: changes go
 * through readTokens and writeTokens.
 */
function knownTokens(paths: HomePaths): KnownTokens {
  const file = tokensPath(paths);
  const stat = statSync(file, { throwIfNoEntry: false });
  const stamp = stat ? `${stat.ino}|${stat.size}|${stat.mtimeMs}|${stat.ctimeMs}` : "";
  const cached = known.get(file);
  if (cached?.stamp === stamp) return cached;
  const tokens = readTokens(paths);
  const fresh = { stamp, tokens, hashes: tokens.map((token) => Buffer.from(token.hash, "hex")) };
  known.set(file, fresh);
  return fresh;
}

/**
 * The record a token belongs to, compared in constant time against every
 * stored hash (no early exit), or why it is refused: unknown, revoked, expired.
 */
export function verifyToken(paths: HomePaths, secret: string, now = new Date()): TokenCheck {
  const presented = Buffer.from(hashToken(secret), "hex");
  const { tokens, hashes } = knownTokens(paths);
  let match: TokenRecord | undefined;
  for (const [i, stored] of hashes.entries()) {
    if (stored.length === presented.length && timingSafeEqual(stored, presented) && !match) match = tokens[i];
  }
  if (!match) return { ok: false, reason: "unknown token: check it was copied whole (sarge token list shows the names of valid ones)" };
  return tokenUsable(match, now);
}

/** Whether a known token may still be used now (a dashboard session re-checks its token on every request). */
export function tokenUsable(token: TokenRecord, now = new Date()): TokenCheck {
  if (token.revokedAt !== null) return { ok: false, reason: `token ${token.name} was revoked on ${token.revokedAt}: ask an admin for a new one` };
  if (token.expiresAt !== null && Date.parse(token.expiresAt) <= now.getTime()) {
    return { ok: false, reason: `token ${token.name} expired on ${token.expiresAt}: ask an admin for a new one (sarge token add)` };
  }
  return { ok: true, token };
}

/** The token a dashboard session logged in with: by its hash, so a new token given a revoked one's name does not revive that one's sessions. */
export function tokenByHash(paths: HomePaths, hash: string): TokenRecord | undefined {
  return knownTokens(paths).tokens.find((token) => token.hash === hash);
}

function hashToken(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

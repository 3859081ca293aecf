import { randomBytes } from "node:crypto";

/**
 * The dashboard's login sessions: opaque random ids kept in memory, each
 * naming the hash of the token it logged in with (not its name, which a new
 * token may take after a revoke), until they expire or the server restarts.
 */
export class SessionStore {
  private readonly sessions = new Map<string, { tokenHash: string; expiresAt: number }>();

  constructor(readonly ttlMs: number) {}

  create(tokenHash: string, now = Date.now()): string {
    const id = randomBytes(32).toString("base64url");
    this.sessions.set(id, { tokenHash, expiresAt: now + this.ttlMs });
    return id;
  }

  /** The token hash of a live session, else null (an expired one is forgotten). */
  tokenHashOf(id: string, now = Date.now()): string | null {
    const session = this.sessions.get(id);
    if (!session) return null;
    if (session.expiresAt <= now) {
      this.sessions.delete(id);
      return null;
    }
    return session.tokenHash;
  }

  end(id: string): void {
    this.sessions.delete(id);
  }
}

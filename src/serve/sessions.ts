import { randomBytes } from "node:crypto";

/** The dashboard's login sessions: opaque random ids kept in memory, each naming a token, until they expire or the server restarts. */
export class SessionStore {
  private readonly sessions = new Map<string, { token: string; expiresAt: number }>();

  constructor(readonly ttlMs: number) {}

  create(tokenName: string, now = Date.now()): string {
    const id = randomBytes(32).toString("base64url");
    this.sessions.set(id, { token: tokenName, expiresAt: now + this.ttlMs });
    return id;
  }

  /** The token name of a live session, else null (an expired one is forgotten). */
  tokenOf(id: string, now = Date.now()): string | null {
    const session = this.sessions.get(id);
    if (!session) return null;
    if (session.expiresAt <= now) {
      this.sessions.delete(id);
      return null;
    }
    return session.token;
  }

  end(id: string): void {
    this.sessions.delete(id);
  }
}

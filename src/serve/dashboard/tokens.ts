import type { FastifyInstance } from "fastify";
import { addToken, listTokens, revokeToken, type TokenView } from "../tokens.js";
import { pageBase, pagePermission, sendPage, signedIn } from "./page-auth.js";

function tokenRow(token: TokenView) {
  const expired = token.expiresAt !== null && Date.parse(token.expiresAt) <= Date.now();
  const state = token.revokedAt !== null ? "revoked" : expired ? "expired" : "active";
  return { ...token, state, revocable: state === "active" };
}

interface NewTokenForm {
  name?: string;
  role?: string;
  expires?: string;
  window?: string;
}

/** /tokens (admin): the list, add (the token shown once, on the answer to the POST), revoke. */
export function tokenRoutes(app: FastifyInstance): void {
  const paths = app.sargeAuth.paths;
  const page = (request: Parameters<typeof signedIn>[0], extra: object = {}) => ({
    ...pageBase(signedIn(request), "Tokens"),
    tokens: listTokens(paths).map(tokenRow),
    ...extra,
  });
  const admin = { preHandler: pagePermission("tokens") };

  app.get("/tokens", admin, (request, reply) => sendPage(reply, "tokens", page(request)));

  app.post<{ Body: NewTokenForm }>("/tokens", admin, (request, reply) => {
    const form = request.body ?? {};
    const { secret, record } = addToken(paths, {
      name: (form.name ?? "").trim(),
      role: form.role ?? "",
      ...(form.expires?.trim() ? { expires: form.expires.trim() } : {}),
      ...(form.window?.trim() ? { window: form.window.trim() } : {}),
    });
    return sendPage(reply, "tokens", page(request, { created: { name: record.name, role: record.role, secret } }));
  });

  app.post<{ Body: { name?: string } }>("/tokens/revoke", admin, (request, reply) => {
    const token = revokeToken(paths, request.body?.name ?? "");
    return sendPage(reply, "tokens", page(request, { flash: { tone: "ok", text: `token ${token.name} revoked: its sessions have ended` } }));
  });
}

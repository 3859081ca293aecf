/**
 * Every API route with the permission it needs (src/serve/roles.ts), the
 * table the matrix test (test/e2e/serve-matrix.test.ts) runs each credential
 * against. A helper adding routes adds rows here. A row's `ok` is the status
 * a token with the permission gets; without a usable token every route
 * answers 401, with a token whose role lacks the permission 403.
 */
import type { Permission } from "../../src/serve/roles.js";

export interface RouteRow {
  method: "GET" | "POST" | "DELETE" | "PUT";
  /** The path, `:instance` replaced by the test home's active web instance. */
  path: string;
  permission: Permission;
  ok: number;
  body?: () => RequestInit["body"];
  headers?: Record<string, string>;
}

export const routeTable: RouteRow[] = [
  { method: "GET", path: "/api/v1/status", permission: "read", ok: 200 },
  { method: "GET", path: "/api/v1/instances", permission: "read", ok: 200 },
  { method: "GET", path: "/api/v1/instances/:instance/log", permission: "read", ok: 200 },
  { method: "GET", path: "/api/v1/instances/:instance/log?offset=5", permission: "read", ok: 200 },
  { method: "GET", path: "/api/v1/instances/web-zzzzzz/log", permission: "read", ok: 404 },
  { method: "GET", path: "/api/v1/instances/..%2F..%2Fetc%2Fsarge.yaml/log", permission: "read", ok: 400 },
  { method: "GET", path: "/api/v1/releases", permission: "read", ok: 200 },
  { method: "GET", path: "/api/v1/releases?outcome=failed", permission: "read", ok: 200 },
  { method: "GET", path: "/api/v1/releases/1", permission: "read", ok: 200 },
  { method: "GET", path: "/api/v1/releases/999", permission: "read", ok: 404 },
  { method: "GET", path: "/api/v1/releases/..%2F1/log", permission: "read", ok: 400 },
  { method: "GET", path: "/api/v1/config", permission: "read", ok: 200 },
  { method: "GET", path: "/api/v1/config?values=1", permission: "config-values", ok: 200 },
  { method: "GET", path: "/api/v1/queue", permission: "read", ok: 200 },
  { method: "POST", path: "/api/v1/releases?procs=not%20a%20type", permission: "deploy", ok: 400, body: () => "x", headers: { "content-type": "application/x-tar" } },
  { method: "POST", path: "/api/v1/releases/999/cancel", permission: "cancel", ok: 404 },
  { method: "POST", path: "/api/v1/rollback", permission: "rollback", ok: 400, body: () => "{}", headers: { "content-type": "application/json" } },
  { method: "POST", path: "/api/v1/lock", permission: "lock", ok: 400, body: () => "{}", headers: { "content-type": "application/json" } },
  { method: "DELETE", path: "/api/v1/lock", permission: "lock", ok: 200 },
];

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
];

/** What a token may do (docs/server.md, "Roles"). */
export type Role = "viewer" | "deployer" | "admin";

export const roles: readonly Role[] = ["viewer", "deployer", "admin"];

/**
 * read: every GET except config values; deploy/rollback/cancel/lock: change
 * what runs; config-values: see config values; tokens: manage tokens; force:
 * deploy through a lock or outside a deploy window.
 */
export type Permission = "read" | "deploy" | "rollback" | "cancel" | "lock" | "config-values" | "tokens" | "force";

const permissions: Record<Role, readonly Permission[]> = {
  viewer: ["read"],
  deployer: ["read", "deploy", "rollback", "cancel", "lock"],
  admin: ["read", "deploy", "rollback", "cancel", "lock", "config-values", "tokens", "force"],
};

export function isRole(value: string): value is Role {
  return (roles as readonly string[]).includes(value);
}

export function can(role: Role, permission: Permission): boolean {
  return permissions[role].includes(permission);
}

/** The least role that has `permission`, for "this needs …" messages. */
export function leastRoleWith(permission: Permission): Role {
  return roles.find((role) => can(role, permission))!;
}

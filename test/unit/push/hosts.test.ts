import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resolveHosts } from "../../../src/push/hosts.js";

describe("fleet hosts list", () => {
  const dir = mkdtempSync(join(tmpdir(), "sarge-hosts-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const none = new Map<string, string>();

  it("takes --hosts, else SARGE_HOSTS from the env file, else hosts: in sarge-push.yaml, else none", () => {
    expect(resolveHosts(undefined, none, ".env", dir)).toBeNull();
    writeFileSync(join(dir, "sarge-push.yaml"), "hosts:\n  - d@app1:/srv/a\n  - app2:2222:/srv/a\n");
    expect(resolveHosts(undefined, none, ".env", dir)).toEqual({
      source: `hosts in ${join(dir, "sarge-push.yaml")}`,
      hosts: [
        { user: "d", host: "app1", port: null, home: "/srv/a" },
        { user: null, host: "app2", port: 2222, home: "/srv/a" },
      ],
    });
    expect(resolveHosts(undefined, new Map([["SARGE_HOSTS", "app3:/x, app4:/x"]]), "/c/.env", dir)?.hosts.map((h) => h.host)).toEqual(["app3", "app4"]);
    expect(resolveHosts("app5:/x", new Map([["SARGE_HOSTS", "app3:/x"]]), ".env", dir)?.source).toBe("--hosts");
  });

  it("refuses a bad host, a host named twice, an empty list and a malformed file", () => {
    expect(() => resolveHosts("app1:/x,app1:2222:/y", none, ".env", dir)).toThrow("--hosts names the host app1 twice");
    expect(() => resolveHosts("app1:/x,app2", none, ".env", dir)).toThrow('--hosts: "app2" is not [user@]host[:port]:/path/to/home');
    expect(() => resolveHosts(" , ", none, ".env", dir)).toThrow("--hosts names no host");
    writeFileSync(join(dir, "sarge-push.yaml"), "hosts: app1:/x\n");
    expect(() => resolveHosts(undefined, none, ".env", dir)).toThrow(`${join(dir, "sarge-push.yaml")}: "hosts" must be a list of [user@]host[:port]:/path/to/home`);
    writeFileSync(join(dir, "sarge-push.yaml"), "hosts: [\n");
    expect(() => resolveHosts(undefined, none, ".env", dir)).toThrow("is not valid YAML");
  });
});

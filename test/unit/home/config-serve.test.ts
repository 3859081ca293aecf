import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../src/home/config.js";

const file = "/srv/app/etc/sarge.yaml";
const base = "port_range: [5010, 5099]\nport_map:\n  web: 127.0.0.1:5000\n";
const parse = (serve: string) => parseConfig(`${base}serve:\n${serve}`, file, "/srv/app").serve;

describe("etc/sarge.yaml serve:", () => {
  it("is null without the block, and fills defaults with one", () => {
    expect(parseConfig(base, file, "/srv/app").serve).toBeNull();
    expect(parseConfig(`${base}serve:\n`, file, "/srv/app").serve).toEqual({
      listen: { host: "127.0.0.1", port: 5009 },
      allowRemote: false,
      tls: null,
      deployTimeoutMs: 30 * 60_000,
      idleTimeoutMs: 10 * 60_000,
      failedAuthLimit: 10,
    });
  });

  it("refuses a non-loopback address unless allow_remote", () => {
    expect(() => parse("  listen: 0.0.0.0:8080\n")).toThrow(
      "/srv/app/etc/sarge.yaml: serve.listen: 0.0.0.0 is not a loopback address; the API would be reachable from other machines: set serve.allow_remote: true to mean it",
    );
    expect(parse("  listen: 0.0.0.0:8080\n  allow_remote: true\n")?.listen).toEqual({ host: "0.0.0.0", port: 8080 });
    expect(() => parse("  tls: { cert: a.pem, key: a.key, listen: '10.0.0.1:8443' }\n")).toThrow("serve.tls.listen: 10.0.0.1 is not a loopback address");
  });

  it("takes TLS files relative to the home, and refuses ports instances or other routes use", () => {
    expect(parse("  tls: { cert: etc/cert.pem, key: /k.pem, listen: 8443 }\n")?.tls).toEqual({ cert: "/srv/app/etc/cert.pem", key: "/k.pem", listen: { host: "127.0.0.1", port: 8443 } });
    expect(() => parse("  tls: { cert: c.pem }\n")).toThrow("serve.tls: expected cert, key (PEM files) and listen");
    expect(() => parse("  listen: 5050\n")).toThrow("serve.listen: port 5050 lies in port_range [5010, 5099]");
    expect(() => parse("  listen: 5000\n")).toThrow("serve.listen: port 5000 is port_map.web's stable port");
    expect(() => parse("  deploy_timeout: forever\n")).toThrow("serve.deploy_timeout: expected a duration");
    expect(() => parse("  port: 1\n")).toThrow("unknown key 'serve.port'");
  });
});

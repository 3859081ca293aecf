import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig, parseConfig } from "../../../src/home/config.js";
import { homePaths } from "../../../src/home/paths.js";
import { configFile as file, configRefusal as error, minimalConfig as minimal } from "./config-text.js";

describe("etc/sarge.yaml", () => {
  it("fills defaults around the required keys", () => {
    const config = parseConfig(minimal, file, "/srv/app");
    expect(config).toMatchObject({
      portRange: [5010, 5099],
      portMap: { web: { host: "127.0.0.1", port: 5000 } },
      env: {},
      haproxyBin: "haproxy",
      python: "python3",
      dist: "/srv/app/dist",
      supervisor: "builtin",
      keepReleases: 3,
      health: { timeoutMs: 30_000, httpPath: null },
      notify: [],
      logs: { maxBytes: 10 * 1024 * 1024, keep: 5 },
    });
  });

  it("keeps env numbers and booleans as written", () => {
    const config = parseConfig(`${minimal}env:\n  VERSION: 1.10\n  MASK: 0x1F\n  ZIP: 007\n  BIG: 1e3\n  DEBUG: true\n  SPACED: "1.10"\n`, file, "/srv/app");
    expect(config.env).toEqual({ VERSION: "1.10", MASK: "0x1F", ZIP: "007", BIG: "1e3", DEBUG: "true", SPACED: "1.10" });
  });

  it("reads every key of the example in docs/configuration.md", () => {
    const config = parseConfig(
      `${minimal}env:\n  MESSAGE: "hello sarge!"\n  WORKERS: 4\nhaproxy_bin: /usr/sbin/haproxy\npython: /usr/bin/python3.11\ndist: /opt/wheels\nsupervisor: supervisord\nkeep_releases: 5\nhealth:\n  timeout: 500ms\n  http_path: /up\nnotify: [https://hooks.example/x]\n`,
      file,
      "/srv/app",
    );
    expect(config.env).toEqual({ MESSAGE: "hello sarge!", WORKERS: "4" });
    expect(config.dist).toBe("/opt/wheels");
    expect(config.supervisor).toBe("supervisord");
    expect(config.health).toEqual({ timeoutMs: 500, httpPath: "/up" });
    expect(config.notify).toEqual(["https://hooks.example/x"]);
  });

  it("refuses an unknown key, naming it and the known ones", () => {
    expect(error(`${minimal}keep_release: 3\n`).message).toBe(
      `${file}: unknown key 'keep_release' (known keys: port_range, port_map, env, haproxy_bin, python, dist, supervisor, keep_releases, health, notify, logs, archive, webhook, serve, processes)`,
    );
  });

  it("refuses an unknown nested key", () => {
    expect(error(`${minimal}health:\n  timout: 3s\n`).message).toBe(`${file}: unknown key 'health.timout' (known keys: timeout, http_path)`);
  });

  it.each([
    [`port_range: 5010\n`, `${file}: port_range: expected [low, high] port numbers, got 5010`],
    [`port_range: [5010, 99999]\n`, `${file}: port_range[1]: expected a whole number from 1 to 65535, got 99999`],
    [`port_range: [5099, 5010]\n`, `${file}: port_range: expected low <= high, got [5099,5010]`],
    [`port_range: [5010, 5099]\nport_map:\n  web: localhost\n`, `${file}: port_map.web: expected "host:port" or a port number, got "localhost"`],
    [`port_range: [5010, 5099]\nport_map:\n  "web;rm": 5000\n`, `${file}: port_map.web;rm: expected a process type name of letters, digits, _ and -, got "web;rm"`],
    [`${minimal}keep_releases: three\n`, `${file}: keep_releases: expected a whole number from 0 to 1000, got "three"`],
    [`${minimal}supervisor: systemd\n`, `${file}: supervisor: expected builtin or supervisord, got "systemd"`],
    [`${minimal}health:\n  timeout: soon\n`, `${file}: health.timeout: expected a duration like "30s", "500ms" or "2m", got "soon"`],
    [`${minimal}health:\n  http_path: up\n`, `${file}: health.http_path: expected null or a path starting with "/", got "up"`],
    [`${minimal}env:\n  1BAD: x\n`, `${file}: env.1BAD: expected a variable name of letters, digits and _ not starting with a digit, got "1BAD"`],
    [`${minimal}env:\n  LIST: [1, 2]\n`, `${file}: env.LIST: expected a string, number or boolean, got a list`],
    [`${minimal}env:\n  SECRET: {a: s3cr3t}\n`, `${file}: env.SECRET: expected a string, number or boolean, got a mapping`],
    [`port_range: [5010, 5099]\nport_map:\n  web: "*:5000"\n`, `${file}: port_map.web: expected "host:port" or a port number, got "*:5000"`],
    [`${minimal}notify: [ftp://x]\n`, `${file}: notify[0]: expected an http(s) URL, got "ftp://x"`],
    [`${minimal}python: ""\n`, `${file}: python: expected a non-empty string, got ""`],
    [`port_map:\n  web: 5000\n`, `${file}: port_range: expected [low, high] port numbers, got nothing`],
    [`- a\n- b\n`, `${file}: (top level): expected a mapping, got ["a","b"]`],
  ])("refuses a wrong type: %j", (text, message) => {
    expect(error(text).message).toBe(message);
  });

  it("refuses a port_map entry inside port_range", () => {
    expect(error(`port_range: [5000, 5099]\nport_map:\n  web: 127.0.0.1:5050\n`).message).toBe(
      `${file}: port_map.web: port 5050 overlaps port_range [5000, 5099]; stable ports must lie outside the range handed to instances`,
    );
  });

  it("refuses two process types on one stable address", () => {
    expect(error(`port_range: [5010, 5099]\nport_map:\n  web: 5000\n  api: 127.0.0.1:5000\n`).message).toBe(
      `${file}: port_map.api: 127.0.0.1:5000 is already used by port_map.web`,
    );
  });

  it("refuses unparsable YAML with the line", () => {
    expect(error(`port_range: [5010, 5099\nport_map: {\n`).message).toMatch(new RegExp(`^${file}: not valid YAML \\(line \\d+\\): `));
  });

  it("refuses a duplicated key", () => {
    expect(error(`${minimal}keep_releases: 2\nkeep_releases: 3\n`).message).toMatch(/^.*sarge\.yaml: not valid YAML \(line 5\): Map keys must be unique/);
  });

  it("refuses a YAML alias bomb as too many aliases, naming the file", () => {
    const nine = (alias: string) => `[${Array(9).fill(alias).join(", ")}]`;
    const bomb = `${minimal}a: &a ${nine("x")}\nb: &b ${nine("*a")}\nc: &c ${nine("*b")}\nd: &d ${nine("*c")}\ne: ${nine("*d")}\n`;
    expect(error(bomb).message).toBe(`${file}: not valid YAML: too many alias references (a document that expands exponentially)`);
  });

  describe("loading from a home", () => {
    const home = mkdtempSync(join(tmpdir(), "sarge-config-"));
    afterAll(() => rmSync(home, { recursive: true, force: true }));

    it("says a folder without etc/sarge.yaml is not a home", () => {
      expect(() => loadConfig(homePaths(home))).toThrow(
        `${home}/etc/sarge.yaml does not exist: ${home} is not a sarge home (create one with \`sarge init ${home}\`)`,
      );
    });

    it("loads the file", () => {
      mkdirSync(join(home, "etc"));
      mkdirSync(join(home, "var", "run"), { recursive: true });
      writeFileSync(join(home, "etc", "sarge.yaml"), minimal);
      expect(loadConfig(homePaths(home)).portRange).toEqual([5010, 5099]);
    });

    it("caches the parsed file by its content, never serving a stale copy", () => {
      const cacheFile = join(home, "var", "run", "config-cache.json");
      const cached = JSON.parse(readFileSync(cacheFile, "utf8"));
      expect(statSync(cacheFile).mode & 0o777).toBe(0o600);
      writeFileSync(cacheFile, JSON.stringify({ ...cached, config: { ...cached.config, keepReleases: 42 } }));
      expect(loadConfig(homePaths(home)).keepReleases).toBe(42);
      writeFileSync(join(home, "etc", "sarge.yaml"), minimal + "keep_releases: 7\n");
      expect(loadConfig(homePaths(home)).keepReleases).toBe(7);
    });
  });
});

import { describe, expect, it } from "vitest";
import { parseRequest, parseSignal, parseSpec, requestId } from "../../../../src/supervise/builtin/protocol.js";

const valid = { name: "web-k3x9qa", command: "exec sleep 1", cwd: "/srv/app", env: { PORT: "5010" }, logFile: "/srv/web.log" };

describe("builtin protocol", () => {
  it("parses a request and keeps the id of an invalid one to answer it", () => {
    expect(parseRequest({ id: 7, method: "stop", params: { name: "web" } })).toEqual({ id: 7, method: "stop", params: { name: "web" } });
    expect(parseRequest({ id: 8, method: "status" })).toEqual({ id: 8, method: "status", params: {} });
    expect(() => parseRequest({ id: 9, method: "explode" })).toThrow('unknown method "explode"');
    expect(requestId({ id: 9, method: "explode" })).toBe(9);
    expect(requestId("garbage")).toBe(-1);
    expect(() => parseRequest({ method: "status" })).toThrow("numeric id");
  });

  it("accepts a full spec and copies only known fields", () => {
    const spec = { ...valid, stopSignal: "SIGUSR1", stopTimeoutMs: 65_000, logs: { maxBytes: 1000, keep: 0 }, extra: "dropped" };
    expect(parseSpec(spec)).toEqual({ ...valid, stopSignal: "SIGUSR1", stopTimeoutMs: 65_000, logs: { maxBytes: 1000, keep: 0 } });
  });

  it.each([
    [{ ...valid, name: "../etc" }, "program name must match"],
    [{ ...valid, command: "" }, "command must be a non-empty string"],
    [{ ...valid, cwd: "relative" }, "cwd must be an absolute path"],
    [{ ...valid, logFile: 3 }, "logFile must be an absolute path"],
    [{ ...valid, env: { PORT: 5010 } }, "env must be an object of strings"],
    [{ ...valid, stopSignal: "SIGNOPE" }, 'unknown signal "SIGNOPE"'],
    [{ ...valid, stopTimeoutMs: -1 }, "stopTimeoutMs must be a number ≥ 0"],
    [{ ...valid, logs: { maxBytes: 0, keep: 1 } }, "logs must be"],
    [{ ...valid, logs: { maxBytes: 10, keep: 1.5 } }, "logs must be"],
  ])("refuses %j", (spec, message) => {
    expect(() => parseSpec(spec)).toThrow(message);
  });

  it("knows signal names", () => {
    expect(parseSignal("SIGUSR2")).toBe("SIGUSR2");
    expect(() => parseSignal("kill")).toThrow("unknown signal");
  });
});

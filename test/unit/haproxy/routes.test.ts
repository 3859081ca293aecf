import { describe, expect, it } from "vitest";
import {
  addedBinds,
  afterSwitch,
  emptyRoute,
  idleSlot,
  listenersChanged,
  otherSlot,
  routesFromRuntime,
} from "../../../src/haproxy/routes.js";
import type { ListenRoute } from "../../../src/haproxy/types.js";

const web: ListenRoute = emptyRoute("web", { host: "127.0.0.1", port: 5000 });

describe("route helpers", () => {
  it("fills blue first, then alternates", () => {
    expect(idleSlot(web)).toBe("blue");
    const one = afterSwitch(web, "blue", 5011);
    expect(one).toEqual({ ...web, blue: 5011, active: "blue" });
    expect(idleSlot(one)).toBe("green");
    const two = afterSwitch(one, idleSlot(one), 5012);
    expect(two).toEqual({ ...web, blue: 5011, green: 5012, active: "green" });
    expect(otherSlot("green")).toBe("blue");
    expect(web.active).toBeNull(); // inputs are not mutated
  });

  it("reloads only when listeners change, and names the new addresses", () => {
    const worker = emptyRoute("worker", { host: "127.0.0.1", port: 5100 });
    const switched = afterSwitch(web, "blue", 5011);
    expect(listenersChanged([web], [switched])).toBe(false);
    expect(listenersChanged([web], [web, worker])).toBe(true);
    expect(listenersChanged([web, worker], [web])).toBe(true);
    expect(listenersChanged([web], [{ ...web, bind: { host: "127.0.0.1", port: 5001 } }])).toBe(true);
    expect(listenersChanged([web, worker], [worker, web])).toBe(false);
    expect(addedBinds([web], [switched, worker])).toEqual([worker]);
    expect(addedBinds([], [web])).toEqual([web]);
  });

  it("reads routes back from the runtime state", () => {
    const routes = routesFromRuntime(
      [
        {
          proc: "web",
          blue: { state: "maint", addr: "127.0.0.1", port: 5011 },
          green: { state: "ready", addr: "127.0.0.1", port: 5012 },
        },
        {
          proc: "worker",
          blue: { state: "maint", addr: "127.0.0.1", port: 1 },
          green: { state: "maint", addr: "127.0.0.1", port: 1 },
        },
        { proc: "gone", blue: { state: "ready", addr: "127.0.0.1", port: 9 }, green: { state: "maint", addr: "127.0.0.1", port: 1 } },
      ],
      { web: { host: "127.0.0.1", port: 5000 }, worker: { host: "127.0.0.1", port: 5100 } },
    );
    expect(routes).toEqual([
      { proc: "web", bind: { host: "127.0.0.1", port: 5000 }, blue: 5011, green: 5012, active: "green" },
      { proc: "worker", bind: { host: "127.0.0.1", port: 5100 }, blue: null, green: null, active: null },
    ]);
  });
});

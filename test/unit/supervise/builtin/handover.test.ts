import { describe, expect, it } from "vitest";
import { goingAway } from "../../../../src/supervise/builtin/handover.js";
import { SargeError } from "../../../../src/util/errors.js";

describe("a daemon handing over, as its successor's poll sees it", () => {
  it("is going away when it closed the connection, or reset one at connect (a clean-clone run of sarge upgrade failed on that)", () => {
    expect(goingAway(new SargeError("the supervisor closed the connection before answering"))).toBe(true);
    const reset = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
    expect(goingAway(new SargeError("cannot reach the supervisor at /srv/app/var/run/supervisor.sock: ECONNRESET", { cause: reset }))).toBe(true);
  });

  it("is not going away on any other failure, which the upgrade reports", () => {
    const denied = Object.assign(new Error("connect EACCES"), { code: "EACCES" });
    expect(goingAway(new SargeError("cannot reach the supervisor at /srv/app/var/run/supervisor.sock: EACCES", { cause: denied }))).toBe(false);
    expect(goingAway(new Error("closed the connection"))).toBe(false);
  });
});

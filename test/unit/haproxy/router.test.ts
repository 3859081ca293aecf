import { describe, expect, it } from "vitest";
import { undrainedWarning } from "../../../src/haproxy/router.js";

describe("the warning after a drain that did not finish", () => {
  it("says the requests are cut when the old instance stops, not that they were left to finish", () => {
    expect(undrainedWarning(60_000)).toBe(
      "the old slot still had requests after the 60 s drain bound; it is out of rotation, and any still running when its instance is stopped next are cut",
    );
  });
});

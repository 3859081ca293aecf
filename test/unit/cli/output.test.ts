import { afterEach, describe, expect, it, vi } from "vitest";
import { reportError } from "../../../src/cli/output.js";

describe("reportError", () => {
  afterEach(() => vi.restoreAllMocks());

  it("says the disk is full for an ENOSPC nothing caught earlier: exit 1, no stack", () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((text) => written.push(String(text)) > 0);
    const error = Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    expect(reportError(error)).toBe(1);
    expect(written.join("")).toBe("sarge: the disk is full: ENOSPC: no space left on device, write\n  Free space (df -h shows where) and run the command again.\n");
  });
});

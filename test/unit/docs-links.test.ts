import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { packageRoot } from "../../src/util/package-root.js";

describe("the docs", () => {
  it("name only docs/ files that exist", () => {
    const files = ["README.md", ...readdirSync(join(packageRoot, "docs")).filter((name) => /\.(md|rst)$/.test(name)).map((name) => join("docs", name))];
    const missing = files.flatMap((file) =>
      [...readFileSync(join(packageRoot, file), "utf8").matchAll(/\bdocs\/[\w.-]+\.(?:md|rst)\b/g)]
        .map(([named]) => named)
        .filter((named) => !existsSync(join(packageRoot, named)))
        .map((named) => `${file}: ${named}`),
    );
    expect(missing).toEqual([]);
  });
});

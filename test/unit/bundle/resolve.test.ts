import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { wheelClosure } from "../../../src/bundle/resolve.js";
import { listDist } from "../../../src/python-env/dist.js";
import { parseRequirement, type Requirement } from "../../../src/python-env/requirements.js";
import { wheelRequiresDist } from "../../../src/python-env/wheel-metadata.js";
import { packageRoot } from "../../../src/util/package-root.js";
import { writeWheel } from "../../support/wheels.js";

let wheels: string;

beforeAll(async () => {
  wheels = await mkdtemp(join(tmpdir(), "sarge-resolve-"));
  await writeWheel(wheels, {
    name: "top",
    version: "1.0",
    requires: ["mid>=2", "socksy; extra == 'socks'", "winonly; sys_platform == 'win32'", "posixonly; os_name == 'posix'"],
  });
  await writeWheel(wheels, { name: "mid", version: "1.0" });
  await writeWheel(wheels, { name: "mid", version: "2.0", requires: ["leaf"] });
  await writeWheel(wheels, { name: "mid", version: "2.1", tag: "cp311-cp311-manylinux_2_17_x86_64", requires: ["leaf"] });
  await writeWheel(wheels, { name: "leaf", version: "1.0" });
  await writeWheel(wheels, { name: "posixonly", version: "1.0" });
  // a deflated wheel, as real ones are: python's zipfile writes this one
  execFileSync("python3", [join(packageRoot, "examples", "greeting", "make_wheel.py"), wheels], { stdio: "ignore" });
});

afterAll(async () => {
  await rm(wheels, { recursive: true, force: true });
});

const requirement = (text: string, constraint = false): Requirement => {
  const parsed = parseRequirement(text);
  if (parsed === null || parsed === "reference") throw new Error(text);
  return { ...parsed, text, where: "requirements.txt:1", constraint, hashes: [] };
};

async function closure(...texts: string[]): Promise<string[]> {
  const requirements = texts.map((text) => (text.startsWith("-c ") ? requirement(text.slice(3), true) : requirement(text)));
  return (await wheelClosure(requirements, await listDist(wheels), wheels)).map((path) => basename(path));
}

describe("the wheels a bundle needs, from the wheels' own Requires-Dist", () => {
  it("reads Requires-Dist from stored and deflated wheels", async () => {
    expect(await wheelRequiresDist(join(wheels, "mid-2.0-py3-none-any.whl"))).toEqual(["leaf"]);
    expect(await wheelRequiresDist(join(wheels, "greeting-1.0-py3-none-any.whl"))).toEqual([]);
  });

  it("carries every wheel that fits (all platforms), their dependencies, and what a marker may need", async () => {
    expect(await closure("top")).toEqual([
      "leaf-1.0-py3-none-any.whl",
      "mid-2.0-py3-none-any.whl",
      "mid-2.1-cp311-cp311-manylinux_2_17_x86_64.whl",
      "posixonly-1.0-py3-none-any.whl",
      "top-1.0-py3-none-any.whl",
    ]);
    expect(await closure("greeting==1.0", "mid", "-c mid<2")).toEqual(["greeting-1.0-py3-none-any.whl", "mid-1.0-py3-none-any.whl"]);
  });

  it("names what is missing: an extra asked for, a dependency, with what needs it", async () => {
    await expect(closure("top[socks]")).rejects.toThrow(`not in dist: socksy (required by top) — add the wheels to ${wheels}`);
    await expect(closure("mid>=3", "-c leaf>1")).rejects.toThrow(`not in dist: mid>=3 (dist has 1.0, 2.0, 2.1) — add the wheels to ${wheels}`);
    await expect(closure("mid==2.0", "-c leaf>1")).rejects.toThrow(`not in dist: leaf (required by mid; dist has 1.0) — add the wheels to ${wheels}`);
  });

  it("names a file that is not a wheel", async () => {
    const broken = await mkdtemp(join(tmpdir(), "sarge-resolve-broken-"));
    try {
      execFileSync("sh", ["-c", `echo not a zip > ${broken}/bad-1.0-py3-none-any.whl`]);
      await expect(wheelClosure([requirement("bad")], await listDist(broken), broken)).rejects.toThrow("cannot read the wheel bad-1.0-py3-none-any.whl: not a zip file");
    } finally {
      await rm(broken, { recursive: true, force: true });
    }
  });
});

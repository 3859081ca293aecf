import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { emptyState, readState, writeState, writeStateIfChanged } from "../../../src/instance/state.js";
import { homePaths, type HomePaths } from "../../../src/home/paths.js";

describe("var/state.json", () => {
  let paths: HomePaths;
  beforeEach(() => {
    paths = homePaths(mkdtempSync(join(tmpdir(), "sarge-state-")));
    mkdirSync(join(paths.root, "var"), { recursive: true });
  });
  afterEach(() => rmSync(paths.root, { recursive: true, force: true }));

  it("is empty before the first write and round-trips", () => {
    expect(readState(paths)).toEqual(emptyState());
    const state = { ...emptyState(), lastRelease: 4 };
    writeState(paths, state);
    expect(readState(paths)).toEqual(state);
  });

  it("keeps a copy of the last state written as state.json.bak", () => {
    writeState(paths, { ...emptyState(), lastRelease: 1 });
    writeState(paths, { ...emptyState(), lastRelease: 2 });
    expect(readFileSync(`${paths.state}.bak`, "utf8")).toBe(readFileSync(paths.state, "utf8"));
    expect(JSON.parse(readFileSync(`${paths.state}.bak`, "utf8")).lastRelease).toBe(2);
  });

  it("is not rewritten when it already holds the state (recovery that found nothing), and is when it or its copy differs", () => {
    writeStateIfChanged(paths, { ...emptyState(), lastRelease: 1 });
    expect(readState(paths).lastRelease).toBe(1);
    const written = statSync(paths.state).ino;
    writeStateIfChanged(paths, { ...emptyState(), lastRelease: 1 });
    expect(statSync(paths.state).ino).toBe(written);
    writeFileSync(`${paths.state}.bak`, "{");
    writeStateIfChanged(paths, { ...emptyState(), lastRelease: 1 });
    expect(statSync(paths.state).ino).not.toBe(written);
    expect(readFileSync(`${paths.state}.bak`, "utf8")).toBe(readFileSync(paths.state, "utf8"));
    writeStateIfChanged(paths, { ...emptyState(), lastRelease: 2 });
    expect(readState(paths).lastRelease).toBe(2);
  });

  it("says when the copy is missing or broken too", () => {
    writeFileSync(paths.state, "{");
    expect(() => readState(paths)).toThrow(expect.objectContaining({ detail: expect.stringContaining(`Its copy ${paths.state}.bak does not exist`) }));
    writeFileSync(`${paths.state}.bak`, "[]");
    expect(() => readState(paths)).toThrow(
      expect.objectContaining({ detail: expect.stringContaining(`Its copy ${paths.state}.bak is not usable either (not a sarge state file (version 1))`) }),
    );
  });

  it("reports a corrupted file with the way to recover, never resetting it", () => {
    writeState(paths, emptyState());
    writeFileSync(paths.state, '{"version": 1, "instan');
    expect(() => readState(paths)).toThrow(`${paths.state} is corrupted: `);
    try {
      readState(paths);
    } catch (error) {
      expect((error as { detail: string }).detail).toContain(`cp ${paths.state}.bak ${paths.state}`);
    }
    expect(readFileSync(paths.state, "utf8")).toBe('{"version": 1, "instan');
  });

  it("refuses a JSON file that is not sarge state", () => {
    writeFileSync(paths.state, "[1, 2]");
    expect(() => readState(paths)).toThrow(`${paths.state} is corrupted: not a sarge state file (version 1)`);
  });

  it("refuses to start empty when it is missing but the home has been deployed to", () => {
    mkdirSync(join(paths.deploy, "web-abc123"), { recursive: true });
    const wayOut = expect.objectContaining({ detail: expect.stringContaining("sarge will not guess what runs") });
    expect(() => readState(paths)).toThrow(`${paths.state} is missing, but this home has been deployed to (found deploy/web-abc123)`);
    expect(() => readState(paths)).toThrow(wayOut);
    rmSync(paths.deploy, { recursive: true });
    writeFileSync(`${paths.state}.bak`, JSON.stringify(emptyState()));
    expect(() => readState(paths)).toThrow(`${paths.state} is missing, but this home has been deployed to (found ${paths.state}.bak)`);
    expect(() => readState(paths)).toThrow(expect.objectContaining({ detail: expect.stringContaining(`cp ${paths.state}.bak ${paths.state}`) }));
  });
});

/** docs/local.md (ports and the per-process environment), end to end. */
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { localStart, logLinePattern, project, startAndCollect } from "./local-support.js";

/** A Procfile whose processes print `<HONCHO_PROCESS_NAME> <PORT>` and keep running. */
function procfile(...types: string[]): string {
  return types.map((t) => `${t}: echo "$HONCHO_PROCESS_NAME $PORT"; exec sleep 10\n`).join("");
}

/** Start, collect each process's `<name> <port>` report, and return them sorted by name. */
async function ports(cwd: string, args: string[], count: number, env: Record<string, string> = {}): Promise<string[]> {
  const { lines, result } = await startAndCollect(cwd, args, count, { env });
  expect(result.code).toBe(143);
  return lines.filter((line) => /^\S+\.\d+ -?\d+$/.test(line)).sort();
}

describe("sarge local: ports (docs/local.md)", () => {
  it("base 5000, +100 per process type in Procfile order", async () => {
    const cwd = project({ Procfile: procfile("web", "worker", "clock") });
    expect(await ports(cwd, [], 3)).toEqual(["clock.1 5200", "web.1 5000", "worker.1 5100"]);
  });

  it("-c: instance i of type t gets base + 100·t + (i−1); names are <type>.<i>", async () => {
    const cwd = project({ Procfile: procfile("web", "worker") });
    expect(await ports(cwd, ["-c", "web=2,worker=3"], 5)).toEqual([
      "web.1 5000",
      "web.2 5001",
      "worker.1 5100",
      "worker.2 5101",
      "worker.3 5102",
    ]);
  });

  it("a type with -c 0 is skipped but keeps its +100 slot; -c names not in the Procfile are ignored", async () => {
    const cwd = project({ Procfile: procfile("a", "b", "c") });
    expect(await ports(cwd, ["-c", "b=0,nope=4"], 2)).toEqual(["a.1 5000", "c.1 5200"]);
  });

  it("named types take slots in command-line order; unselected types take none; duplicates are merged", async () => {
    const cwd = project({ Procfile: procfile("web", "worker", "clock") });
    expect(await ports(cwd, ["worker"], 1)).toEqual(["worker.1 5000"]);
    expect(await ports(cwd, ["clock", "web", "clock"], 2)).toEqual(["clock.1 5000", "web.1 5100"]);
  });

  it("base port: -p > PORT in .env > PORT in the OS env > 5000", async () => {
    const plain = project({ Procfile: procfile("web", "worker") });
    const withDotenv = project({ Procfile: procfile("web", "worker"), ".env": "PORT=7000\n" });
    const [cli, dotenv, os, cliOverDotenv] = await Promise.all([
      ports(plain, ["-p", "6000"], 2, { PORT: "8000" }),
      ports(withDotenv, [], 2, { PORT: "8000" }),
      ports(plain, [], 2, { PORT: "8000" }),
      // deliberate difference: honcho lets .env PORT beat -p
      ports(withDotenv, ["-p", "6000"], 2),
    ]);
    expect(cli).toEqual(["web.1 6000", "worker.1 6100"]);
    expect(dotenv).toEqual(["web.1 7000", "worker.1 7100"]);
    expect(os).toEqual(["web.1 8000", "worker.1 8100"]);
    expect(cliOverDotenv).toEqual(["web.1 6000", "worker.1 6100"]);
  });

  it("a port that is not an int is an error: invalid value for port, exit 1, nothing started", async () => {
    const cwd = project({ Procfile: "web: touch started\n" });
    const withDotenv = project({ Procfile: "web: touch started\n", ".env": "PORT=x1\n" });
    const results = await Promise.all([
      localStart(cwd, ["-p", "abc"]),
      localStart(withDotenv),
      localStart(cwd, [], { env: { PORT: "50.5" } }),
    ]);
    const messages = ["invalid value for port: 'abc'", "invalid value for port: 'x1'", "invalid value for port: '50.5'"];
    results.forEach((result, i) => {
      expect(result.code).toBe(1);
      expect(result.stdout).toBe("");
      expect(result.stderr).toMatch(logLinePattern("ERROR", messages[i]!));
    });
    expect(existsSync(`${cwd}/started`) || existsSync(`${withDotenv}/started`)).toBe(false);
  });

  it("ports are Python ints: surrounding blanks and underscores are accepted", async () => {
    const cwd = project({ Procfile: procfile("web") });
    expect(await ports(cwd, ["-p", " 6_000 "], 1)).toEqual(["web.1 6000"]);
  });
});

describe("sarge local: the per-process environment (docs/local.md)", () => {
  it("OS env, then HONCHO_PROCESS_NAME, then .env values, then PORT; PS is not set", async () => {
    const cwd = project({
      Procfile: 'web: echo "os=$FROM_OS name=$HONCHO_PROCESS_NAME dotenv=$FROM_DOTENV port=$PORT ps=${PS-unset}"; exec sleep 10\n',
      ".env": "FROM_DOTENV=yes\n",
    });
    const { lines } = await startAndCollect(cwd, [], 1, { env: { FROM_OS: "kept" } });
    expect(lines).toContain("os=kept name=web.1 dotenv=yes port=5000 ps=unset");
  });

  it("PORT in .env is replaced by the computed port in every process", async () => {
    const cwd = project({ Procfile: procfile("web"), ".env": "PORT=7000\n" });
    expect(await ports(cwd, ["-c", "web=2"], 2)).toEqual(["web.1 7000", "web.2 7001"]);
  });

  it("an unknown process type is an error and nothing is started", async () => {
    const cwd = project({ Procfile: "web: touch started\n" });
    const result = await localStart(cwd, ["web", "nope"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(logLinePattern("ERROR", "Process type 'nope' does not exist in Procfile"));
    expect(existsSync(`${cwd}/started`)).toBe(false);
  });

  it("deliberate difference: a malformed -c is a one-line error, exit 1, nothing started", async () => {
    const cwd = project({ Procfile: "web: touch started\n" });
    const results = await Promise.all([localStart(cwd, ["-c", "web"]), localStart(cwd, ["-c", "web=x"])]);
    expect(results[0]!.stderr).toMatch(
      logLinePattern("ERROR", "invalid value for concurrency: 'web' (expected process=num[,process=num], e.g. web=2,worker=1)"),
    );
    expect(results[1]!.stderr).toMatch(
      logLinePattern("ERROR", "invalid value for concurrency: 'web=x' (expected process=num[,process=num], e.g. web=2,worker=1)"),
    );
    for (const result of results) expect(result).toMatchObject({ code: 1, stdout: "" });
    expect(existsSync(`${cwd}/started`)).toBe(false);
  });
});

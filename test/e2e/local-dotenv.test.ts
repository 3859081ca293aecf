/** docs/local.md, `.env` grammar and its effects, end to end through `sarge local run` and `start`. */
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { logLinePattern, project, sarge } from "./local-support.js";

const PRINT_ENV = [process.execPath, "-e", "process.stdout.write(JSON.stringify(process.env))"];

/** The environment a `sarge local run` child sees. */
async function envOf(cwd: string, args: string[] = [], osEnv: Record<string, string> = {}): Promise<Record<string, string>> {
  const result = await sarge(["local", "run", ...args, ...PRINT_ENV], { cwd, env: osEnv });
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as Record<string, string>;
}

/** Every row of the `.env` grammar table, one variable per row (K<n>), in one file. */
const TABLE = [
  ["K01=bar", "bar"],
  ["K02 = bar", "bar"],
  ["K03= bar", "bar"],
  ["  K04=bar", "bar"],
  ["K05=hello big world", "hellobigworld"],
  ["K06=1 BAR=2", "1BAR=2"],
  ["K07=  lead", "lead"],
  ['K08="  lead"', "  lead"],
  ['K09="a b"', "a b"],
  ["K10='a b'", "a b"],
  [`K11="it's"`, "it's"],
  [`K12='say "hi"'`, 'say "hi"'],
  [`K13='"x"'`, '"x"'],
  ['K14="a\\"b"', 'a"b'],
  ['K15=\\"x\\"', '"x"'],
  [`K16="x"y'z'`, "xyz"],
  ['K17=a"b c"d', "ab cd"],
  ["K18=a\\ b", "a b"],
  ['K19="a\\nb"', "a\nb"],
  ["K20='a\\nb'", "a\nb"],
  ['K21="a\\\\nb"', "a\nb"],
  ["K22=a\\nb", "anb"],
  ['K23="a\\tb"', "a\tb"],
  ["K24=a\\tb", "atb"],
  ['K25="a\\\\b"', "a\\b"],
  ["K26='a\\\\b'", "a\\\\b"],
  ["K27=a\\\\b", "a\\b"],
  ['K28="\\$x"', "\\$x"],
  ["K29='\\$x'", "\\$x"],
  ["K30=\\$x", "$x"],
  ["K31=$HOME", "$HOME"],
  ["K32=${HOME}", "${HOME}"],
  ['K33="$HOME"', "$HOME"],
  ["K34=$(cmd)", "$(cmd)"],
  ["K35=$(echo hi)", "$(echohi)"],
  ["K36=bar # c", "bar"],
  ["K37=bar#baz", "bar"],
  ["K38='x'#y", "x"],
  ['K39="#x"', "#x"],
  ['K40=""', ""],
  ["K41=''", ""],
  ["foo_lower=x", "x"],
  ["_X=1", "1"],
  ['"K42"=x', "x"],
  ["K43=a=b==c", "a=b==c"],
  ["K44==x", "=x"],
  ["K45=ünïcødé✓", "ünïcødé✓"],
  ["K46=postgres://u:p@db:5432/x?a=1&b=2;c|d~e", "postgres://u:p@db:5432/x?a=1&b=2;c|d~e"],
  ['K47="a\\rb"', "a\\rb"],
] as const;

/** Lines that set nothing. */
const IGNORED = [
  ["# N01=comment", "N01"],
  ["   # N02=indented comment", "N02"],
  ["N03=", "N03"],
  ["N04= # c", "N04"],
  ["N05", "N05"],
  ["1X=1", "1X"],
  ["N06.B=1", "N06"],
  ["N07-B=1", "N07"],
  [":N08=1", "N08"],
  ["КЛЮЧ=1", "КЛЮЧ"],
  ["ÀB=1", "ÀB"],
] as const;

describe("sarge local: .env grammar (docs/local.md)", () => {
  it("every row of the table, and the lines that set nothing", async () => {
    const dotenv = [...TABLE.map(([line]) => line), ...IGNORED.map(([line]) => line)].join("\n") + "\n";
    const env = await envOf(project({ ".env": dotenv }));
    for (const [line, value] of TABLE) {
      const key = line.trim().startsWith('"') ? line.trim().slice(1).split('"')[0]! : line.trim().split(/[ =]/)[0]!;
      expect(env[key], line).toBe(value);
    }
    for (const [line, key] of IGNORED) expect(env[key], line).toBeUndefined();
    expect(env.BAR).toBeUndefined();
    expect(env.N06).toBeUndefined();
    expect(env.B).toBeUndefined();
  });

  it("the key regex is a prefix match: Aé and \"A B\" are set (seen through export: /bin/sh drops such names)", async () => {
    const cwd = project({ Procfile: "web: x\n", ".env": 'Aé=1\n"A B"=2\nÀB=3\n' });
    const result = await sarge(["local", "export", "-a", "app", "supervisord", "out"], { cwd });
    expect(result.code).toBe(0);
    expect(readFileSync(`${cwd}/out/app.conf`, "utf8")).toContain("environment=HONCHO_PROCESS_NAME=web.1,Aé=1,A B=2,PORT=5000\n");
  });

  it("deliberate difference: `export KEY=value` lines are honoured", async () => {
    const env = await envOf(project({ ".env": "export EXPORTED=bar\n  export  QUOTED='a b'\nexport=plain\n" }));
    expect(env.EXPORTED).toBe("bar");
    expect(env.QUOTED).toBe("a b");
    expect(env.export).toBe("plain");
  });

  it("a CRLF file: the \\r is not part of the value", async () => {
    const env = await envOf(project({ ".env": "CR1=bar\r\nCR2='x y'\r\n" }));
    expect(env.CR1).toBe("bar");
    expect(env.CR2).toBe("x y");
  });

  it("duplicate keys: the last one wins, within a file and across -e files (later files override)", async () => {
    const cwd = project({ ".env": "DUP=first\nDUP=second\n", "a.env": "A=a\nBOTH=a\n", "b.env": "B=b\nBOTH=b\n" });
    const [plain, env, reversed] = await Promise.all([
      envOf(cwd),
      envOf(cwd, ["-e", "a.env, b.env"]),
      envOf(cwd, ["-e", "b.env,a.env"]),
    ]);
    expect(plain.DUP).toBe("second");
    expect([env.A, env.B, env.BOTH, env.DUP]).toEqual(["a", "b", "b", undefined]);
    expect(reversed.BOTH).toBe("a");
  });

  it("missing or unreadable env files are skipped silently; the default is .env in the app root", async () => {
    const cwd = project({ "app/.env": "IN_APP=1\n", "dir.env/x": "" });
    const [skipped, inApp] = await Promise.all([envOf(cwd, ["-e", "missing.env,dir.env,.env"]), envOf(cwd, ["-d", "app"])]);
    expect(skipped.IN_APP).toBeUndefined();
    expect(inApp.IN_APP).toBe("1");
  });

  it(".env values override the OS environment", async () => {
    const env = await envOf(project({ ".env": "SHARED=from-dotenv\n" }), [], { SHARED: "from-os", OS_ONLY: "os" });
    expect(env.SHARED).toBe("from-dotenv");
    expect(env.OS_ONLY).toBe("os");
  });

  it("values are passed to start's processes too, overriding the OS env; HONCHO_PROCESS_NAME in .env wins", async () => {
    const cwd = project({
      Procfile: 'web: printf "%s|%s|%s\\n" "$MSG" "$HONCHO_PROCESS_NAME" "$OS_ONLY"\n',
      ".env": "MSG='hello world'\nHONCHO_PROCESS_NAME=custom\n",
    });
    const result = await sarge(["local", "start", "--no-prefix"], { cwd, env: { MSG: "os", OS_ONLY: "kept" } });
    expect(result.stdout.split("\n")).toContain("hello world|custom|kept");
  });

  const malformed = [
    ["FOO='a\\'b'", "line 2: no closing quotation"],
    ['FOO="multi\nline"', "line 2: no closing quotation"],
    ["FOO=trailing\\", "line 2: no escaped character after the trailing backslash"],
  ] as const;
  for (const [line, message] of malformed) {
    it(`deliberate difference: ${JSON.stringify(line)} is a one-line error, exit 1, nothing runs`, async () => {
      const cwd = project({ ".env": `OK=1\n${line}\n`, Procfile: "web: touch started\n" });
      const results = await Promise.all([
        sarge(["local", "run", "touch", "started"], { cwd }),
        sarge(["local", "start"], { cwd }),
        sarge(["local", "check"], { cwd }),
      ]);
      for (const result of results) {
        expect(result.code).toBe(1);
        expect(result.stdout).toBe("");
        expect(result.stderr).toMatch(logLinePattern("ERROR", `malformed env file ./.env, ${message}`));
      }
      expect(existsSync(`${cwd}/started`)).toBe(false);
    });
  }
});

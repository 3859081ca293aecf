/**
 * The CLI's CommonJS bundles, written to build/cli/ after tsc by `npm run build`:
 * sarge.cjs, the launcher bin/sarge requires, and one file per bundled command
 * holding that command and what it loads. `sarge list` then reads three files
 * instead of ~55 ES modules (docs/benchmarks.md, "CLI start in bundles").
 */
import { build, type BuildOptions, type Metafile, type Plugin } from "esbuild";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { codeCacheFile, makeCodeCache } from "../src/util/code-cache.js";
import { bundledCommands } from "../src/cli/launch.js";
import { configParserIdentity } from "../src/home/config.js";
import { packageRoot } from "../src/util/package-root.js";

const outDir = join(packageRoot, "build", "cli");
const cliSources = join(packageRoot, "build", "src", "cli");

const common: BuildOptions = {
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  // tsc's output is ES modules; in a CommonJS bundle import.meta.url becomes the bundle's own URL
  // the config cache's key as the modules make it, so bundles and modules share one cache (src/home/config.ts)
  define: { "import.meta.url": "importMetaUrl", SARGE_CONFIG_PARSER_IDENTITY: JSON.stringify(configParserIdentity()) },
  banner: { js: `const importMetaUrl = require("node:url").pathToFileURL(__filename).href;` },
  // the HTTP server's packages load files of their own at run time and no bundled command needs them
  external: ["fastify", "@fastify/*"],
  // ~3 ms less to compile per run; names are kept, so a stack trace still reads
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: "warning",
};

/**
 * A command bundle runs as a vm.Script (src/util/code-cache.ts), where Node 20
 * cannot run import() without an experimental flag: a dynamic import of a
 * built-in module is bundled as a require instead.
 */
const builtinsRequired: Plugin = {
  name: "builtins-required",
  setup(plugin) {
    plugin.onResolve({ filter: /^node:/ }, (args) => (args.kind === "dynamic-import" ? { path: args.path, namespace: "builtin" } : undefined));
    plugin.onLoad({ filter: /.*/, namespace: "builtin" }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: "js" }));
  },
};

/** Any other import() left in a command bundle would fail only when reached: fail the build instead. */
function refuseDynamicImports(command: string, metafile: Metafile): void {
  const left = Object.values(metafile.outputs).flatMap((output) => output.imports.filter((entry) => entry.kind === "dynamic-import").map((entry) => entry.path));
  if (left.length > 0) throw new Error(`build/cli/${command}.cjs would import() ${left.join(", ")}, which a bundle run from its code cache cannot do`);
}

/** A command's bundle: the program with that command alone, as build/src/cli/main.js makes it for a run naming it. */
function commandEntry(command: string): string {
  const register = `register${command[0]!.toUpperCase()}${command.slice(1)}`;
  return [
    `import { newProgram, runProgram } from "./program.js";`,
    `import { ${register} } from "./${command}.js";`,
    `export const main = (argv) => runProgram(() => { const program = newProgram(); ${register}(program); return program; }, argv);`,
  ].join("\n");
}

rmSync(outDir, { recursive: true, force: true });
await Promise.all([
  build({ ...common, entryPoints: [join(cliSources, "launch.js")], outfile: join(outDir, "sarge.cjs") }),
  ...bundledCommands.map(async (command) => {
    const stdin = { contents: commandEntry(command), resolveDir: cliSources, sourcefile: `${command}-entry.js` };
    const bundle = join(outDir, `${command}.cjs`);
    const { metafile } = await build({ ...common, stdin, outfile: bundle, plugins: [builtinsRequired], metafile: true });
    refuseDynamicImports(command, metafile);
    writeFileSync(codeCacheFile(bundle), makeCodeCache(bundle));
  }),
]);

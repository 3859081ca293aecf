import { statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { requireBundle } from "../util/code-cache.js";
import { packageRoot } from "../util/package-root.js";
import { isCheckout } from "../util/version.js";
import { commandNameOf } from "./command-name.js";

/**
 * The commands that also exist as one CommonJS file each, build/cli/<name>.cjs
 * (scripts/bundle-cli.ts): the ones run most often, whose own work costs less
 * than loading the ~50 ES modules they are made of, and the builtin daemon,
 * which holds ~7 MiB less memory from one file.
 */
export const bundledCommands: readonly string[] = ["list", "status", "deploy", "bundle", "supervisord"];

interface Cli {
  main(argv: string[]): Promise<void>;
}

/**
 * What bin/sarge runs, from its bundle build/cli/sarge.cjs: a bundled command
 * from its file beside it, any other from build/src's ES modules.
 */
export async function launch(argv: string[]): Promise<void> {
  const name = commandNameOf(argv);
  const cli = (
    name !== undefined && bundledCommands.includes(name) && bundlesAreCurrent()
      ? requireBundle(fileURLToPath(new URL(`./${name}.cjs`, import.meta.url))).exports
      : await import(new URL("../src/cli/main.js", import.meta.url).href)
  ) as Cli;
  await cli.main(argv);
}

/**
 * In a checkout, `tsc` alone rewrites build/src and leaves the bundles as they
 * were: the modules then run every command, never code older than them. An
 * installed package ships both together.
 */
function bundlesAreCurrent(): boolean {
  if (!isCheckout()) return true;
  try {
    return statSync(join(packageRoot, "build", "cli", "sarge.cjs")).mtimeMs >= statSync(join(packageRoot, "build", "src", "cli", "launch.js")).mtimeMs;
  } catch {
    return false;
  }
}

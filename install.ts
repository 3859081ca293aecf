/**
 * Installer: `node build/install.js <home> [--supervisor supervisord]` creates a
 * home exactly as `sarge init` does.
 */
import { main } from "./src/cli/main.js";

await main([process.argv[0]!, process.argv[1]!, "init", ...process.argv.slice(2)]);

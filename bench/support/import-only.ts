/**
 * `node build/bench/support/import-only.js [specifier]`: imports sarge's CLI module graph (or the
 * one module named) and exits, so that its wall time is the start-up + module loading floor under
 * every sarge command (bench/cli-latency.ts). Nothing runs: no command, no home.
 */
const target = process.argv[2] ?? "../../src/cli/main.js";
await import(target);
process.exit(0);

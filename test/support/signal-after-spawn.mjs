// Preloaded by tests with `node --import` (see signalAfterSpawn in signals.ts): right after this
// process spawns a command containing $SARGE_TEST_SIGNAL_AFTER_SPAWN_OF, it sends itself
// $SARGE_TEST_SIGNAL, once: a Ctrl-C or SIGTERM arriving at the worst moment, every time.
import childProcess from "node:child_process";
import { syncBuiltinESMExports } from "node:module";

const signal = process.env.SARGE_TEST_SIGNAL;
const command = process.env.SARGE_TEST_SIGNAL_AFTER_SPAWN_OF;
for (const name of ["SARGE_TEST_SIGNAL", "SARGE_TEST_SIGNAL_AFTER_SPAWN_OF", "NODE_OPTIONS"]) delete process.env[name];
const spawn = childProcess.spawn;
childProcess.spawn = function spawnThenSignal(...args) {
  const child = spawn.apply(this, args);
  if (signal && command && String(args[0]).includes(command)) {
    childProcess.spawn = spawn;
    syncBuiltinESMExports();
    process.kill(process.pid, signal);
  }
  return child;
};
syncBuiltinESMExports();

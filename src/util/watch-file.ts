import { watch, type FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";

/** An inotify watch of `target` (a file or a folder), or null when it cannot be watched (not there): the caller's poll still looks. */
export function tryWatch(target: string, changed: (name: string | null) => void): FSWatcher | null {
  try {
    const watcher = watch(target, { persistent: false }, (_event, name) => changed(name));
    watcher.on("error", () => watcher.close());
    return watcher;
  } catch {
    return null;
  }
}

/** Watches `file` through its folder: its creation, writes, renames and removal all call `changed` (null when the folder cannot be watched). */
export function watchInFolder(file: string, changed: () => void): FSWatcher | null {
  const name = basename(file);
  return tryWatch(dirname(file), (changedName) => changedName === name && changed());
}

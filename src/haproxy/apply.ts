import type { HomePaths } from "../home/paths.js";
import { assertBindsFree } from "./ports.js";
import { reloadHaproxy, type ReloadResult } from "./reload.js";
import { renderHaproxyConfig } from "./render.js";
import { addedBinds, listenersChanged } from "./routes.js";
import type { ListenRoute } from "./types.js";
import { writeHaproxyConfig } from "./write-config.js";

export interface ApplyResult {
  /** The reload, when the listeners changed; null otherwise. */
  reload: ReloadResult | null;
  warnings: string[];
}

/**
 * Make etc/haproxy/haproxy.cfg describe `next`, and a running HAProxy serve it.
 *
 * `running` is what the running HAProxy currently serves (the routes last
 * applied), or null when HAProxy is not running (first start: every stable
 * address must be free). Stable addresses that are new are checked free,
 * the file is rendered, validated and atomically replaced, and HAProxy is
 * reloaded only when the listeners changed. Slot changes alone need no reload:
 * they were made at run time by switchSlot, this only records them.
 */
export async function applyHaproxyConfig(
  paths: HomePaths,
  haproxyBin: string,
  next: readonly ListenRoute[],
  running: readonly ListenRoute[] | null,
): Promise<ApplyResult> {
  const text = renderHaproxyConfig({ paths, routes: next });
  await assertBindsFree(addedBinds(running ?? [], next));
  const { warnings } = await writeHaproxyConfig(paths, text, haproxyBin);
  const reload = running !== null && listenersChanged(running, next) ? await reloadHaproxy(paths) : null;
  return { reload, warnings };
}

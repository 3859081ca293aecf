/**
 * HAProxy in front of the instances (SPEC "Routing"): config rendering and
 * validation, the supervised program, blue/green switching through the admin
 * socket, reloads through the master socket.
 */
export type { ListenRoute, RuntimeListen, Slot, SlotRuntime, SlotState } from "./types.js";
export { BACKEND_HOST, HAPROXY_PROGRAM, HARD_STOP_AFTER_MS, PLACEHOLDER_PORT, SLOTS } from "./types.js";
export { afterSwitch, addedBinds, emptyRoute, idleSlot, listenersChanged, otherSlot, routesFromRuntime } from "./routes.js";
export { renderHaproxyConfig, type HaproxyConfigInput } from "./render.js";
export { checkHaproxyConfig, writeHaproxyConfig, type ConfigCheck } from "./write-config.js";
export { assertBindsFree } from "./ports.js";
export { resolveHaproxyBin } from "./binary.js";
export { haproxyProgram, HAPROXY_STOP_TIMEOUT_MS } from "./program.js";
export { adminCommand, masterCommand } from "./socket.js";
export { adminInfo, readRuntimeListens, serverLoad, showProc, type ProcList } from "./runtime.js";
export { switchSlot, type SwitchOptions, type SwitchResult } from "./switch.js";
export { waitForHaproxy, type WaitOptions } from "./wait.js";
export { reloadHaproxy, type ReloadResult } from "./reload.js";
export { applyHaproxyConfig, type ApplyResult } from "./apply.js";

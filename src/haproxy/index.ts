/**
 * What the router loads lazily once routing changes: commands that only look
 * (sarge list, status) do not pay for these modules.
 */
export { applyHaproxyConfig } from "./apply.js";
export { haproxyProgram } from "./program.js";
export { renderHaproxyConfig } from "./render.js";
export { readRuntimeListens } from "./runtime.js";
export { switchSlot } from "./switch.js";
export { waitForHaproxy } from "./wait.js";
export { prepareHaproxyCheck } from "./write-config.js";

import { randomInt } from "node:crypto";
import { SargeError } from "../util/errors.js";
import { processTypePattern } from "../procfile/parse.js";

const instanceIdPattern = /^[A-Za-z0-9_-]+-[a-z0-9]{6}$/;
const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

/** `<proc>-<6 random chars>`, like `web-k3x9qa`. */
export function newInstanceId(proc: string): string {
  let suffix = "";
  for (let i = 0; i < 6; i++) suffix += alphabet[randomInt(alphabet.length)];
  return `${proc}-${suffix}`;
}

/** The process type an instance id was made for (`web-k3x9qa` → `web`). */
export function procOfInstanceId(id: string): string {
  return id.slice(0, id.lastIndexOf("-"));
}

export function isInstanceId(value: string): boolean {
  return instanceIdPattern.test(value);
}

/** Names reach file paths and supervisor program names: refuse anything outside the Procfile grammar. */
export function assertProcessType(name: string): void {
  if (!processTypePattern.test(name)) {
    throw new SargeError(`invalid process type "${name}": use letters, digits, _ and - only`, { exitCode: 2 });
  }
}

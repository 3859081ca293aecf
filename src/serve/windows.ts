import { ConfigError } from "../util/errors.js";
import type { TokenRecord } from "./tokens.js";

/** A deploy window like "mon-fri 08:00-18:00": the days and the minutes of the day (server time) deploys may start. */
export interface DeployWindow {
  text: string;
  days: Set<number>;
  startMinute: number;
  endMinute: number;
}

const dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const windowPattern = /^([a-z]{3}(?:-[a-z]{3})?(?:,[a-z]{3}(?:-[a-z]{3})?)*)\s+(\d{2}):(\d{2})-(\d{2}):(\d{2})$/;

/** "mon-fri 08:00-18:00", "sat,sun 10:00-12:00", "mon 00:00-24:00"; the end is exclusive and after the start. */
export function parseWindow(text: string): DeployWindow {
  const match = windowPattern.exec(text.trim().toLowerCase());
  const bad = (why: string): never => {
    throw new ConfigError(`invalid deploy window "${text}": ${why} (expected days and hours like "mon-fri 08:00-18:00")`);
  };
  if (!match) return bad("not in the form DAYS HH:MM-HH:MM");
  const days = new Set<number>();
  for (const part of match[1]!.split(",")) {
    const [first, last = first] = part.split("-").map((name) => dayNames.indexOf(name!));
    if (first! < 0 || last! < 0) bad(`unknown day in "${part}" (use ${dayNames.join(", ")})`);
    for (let day = first!; ; day = (day + 1) % 7) {
      days.add(day);
      if (day === last) break;
    }
  }
  const startMinute = minuteOfDay(match[2]!, match[3]!, bad);
  const endMinute = minuteOfDay(match[4]!, match[5]!, bad);
  if (endMinute <= startMinute) bad("the end must be after the start");
  return { text: text.trim(), days, startMinute, endMinute };
}

function minuteOfDay(hours: string, minutes: string, bad: (why: string) => never): number {
  const value = Number(hours) * 60 + Number(minutes);
  if (Number(minutes) > 59 || value > 24 * 60) bad(`${hours}:${minutes} is not a time of day`);
  return value;
}

export function isInsideWindow(window: DeployWindow, now: Date): boolean {
  const minute = now.getHours() * 60 + now.getMinutes();
  return window.days.has(now.getDay()) && minute >= window.startMinute && minute < window.endMinute;
}

/**
 * Null when `token` may start a deploy at `now`, else the refusal naming its
 * window. Admin tokens deploy outside any window (docs/server.md, "Roles").
 */
export function checkWindow(token: Pick<TokenRecord, "name" | "role" | "window">, now = new Date()): string | null {
  if (token.window === null || token.role === "admin") return null;
  const window = parseWindow(token.window);
  if (isInsideWindow(window, now)) return null;
  const clock = `${dayNames[now.getDay()]} ${String(now.getHours()).padStart(2, "0")}:${String(now.getMinutes()).padStart(2, "0")}`;
  return `token ${token.name} may deploy only within its window "${window.text}" (server time; it is ${clock} now): wait for the window or ask an admin`;
}

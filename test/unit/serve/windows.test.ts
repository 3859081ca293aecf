import { describe, expect, it } from "vitest";
import { checkWindow, isInsideWindow, parseWindow } from "../../../src/serve/windows.js";

/** Local time, as the server reads windows: 2026-03-06 is a Friday. */
const at = (day: number, hours: number, minutes = 0): Date => new Date(2026, 2, day, hours, minutes);

describe("deploy windows", () => {
  it("takes day ranges, lists and wrap-around", () => {
    const weekdays = parseWindow("mon-fri 08:00-18:00");
    expect(isInsideWindow(weekdays, at(6, 8))).toBe(true);
    expect(isInsideWindow(weekdays, at(6, 17, 59))).toBe(true);
    expect(isInsideWindow(weekdays, at(6, 18))).toBe(false);
    expect(isInsideWindow(weekdays, at(7, 12))).toBe(false);
    expect([...parseWindow("fri-mon 00:00-24:00").days].sort()).toEqual([0, 1, 5, 6]);
    expect([...parseWindow("sat,sun 10:00-12:00").days].sort()).toEqual([0, 6]);
  });

  it("refuses a deployer outside its window, naming it; admins and tokens without one pass", () => {
    const token = { name: "ci", role: "deployer" as const, window: "mon-thu 08:00-18:00" };
    expect(checkWindow(token, at(5, 9))).toBeNull();
    expect(checkWindow(token, at(6, 15, 30))).toBe(
      'token ci may deploy only within its window "mon-thu 08:00-18:00" (server time; it is fri 15:30 now): wait for the window or ask an admin',
    );
    expect(checkWindow({ ...token, role: "admin" }, at(6, 15))).toBeNull();
    expect(checkWindow({ ...token, window: null }, at(6, 15))).toBeNull();
  });

  it("says what is wrong with a bad window", () => {
    expect(() => parseWindow("mon-fri 18:00-08:00")).toThrow('invalid deploy window "mon-fri 18:00-08:00": the end must be after the start');
    expect(() => parseWindow("mon-fry 08:00-18:00")).toThrow('unknown day in "mon-fry"');
    expect(() => parseWindow("mon 08:70-09:00")).toThrow("08:70 is not a time of day");
  });
});

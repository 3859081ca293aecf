/** Where a deploy's time goes: the gaps between the timestamps on its progress lines and in sarge.log. */
import { readFileSync } from "node:fs";
import { lineTime, type RunResult } from "./cli.js";
import { median, round } from "./stats.js";

/** Milestones of one deploy, from its progress lines; each phase ends at its milestone. */
const MILESTONES: Array<[phase: string, pattern: RegExp]> = [
  ["startup (node, config, supervisor)", /^receiving the archive into deploy\//],
  ["unpack", /^unpacked \d+ entries/],
  ["lock, recovery, state", /^release \d+: deploy\/[^ ]+ from the archive/],
  ["environment", /^environment [0-9a-f]+: /],
  ["release command", /^release \| /],
  ["port + start + readiness", /: ready on port \d+ after/],
  ["switch (HAProxy)", / now routes to /],
  ["retire (stop old instance)", /: stopped, kept for rollback/],
];

/** Phases of one deploy: time between consecutive milestones found on its stderr, then to its exit (ms). */
export function deployPhases(result: RunResult): Record<string, number> {
  const phases: Record<string, number> = {};
  let previous = result.startedAt;
  for (const [phase, pattern] of MILESTONES) {
    const line = result.stderrLines.find((candidate) => pattern.test(candidate.text.replace(/^\S+Z /, "")));
    if (!line) continue;
    const at = lineTime(line.text) ?? line.at;
    phases[phase] = round(at - previous, 1);
    previous = at;
  }
  phases["exit (history, prune, process end)"] = round(result.endedAt - previous, 1);
  return phases;
}

/** Per-phase medians over several deploys. */
export function medianPhases(samples: Array<{ phases: Record<string, number> }>): Record<string, number> {
  const names = [...new Set(samples.flatMap((sample) => Object.keys(sample.phases)))];
  return Object.fromEntries(names.map((name) => [name, round(median(samples.map((sample) => sample.phases[name] ?? 0)), 1)]));
}

/** Steps inside "environment" when one is built, from the deploy's own lines in var/log/sarge.log (ms). */
const ENVIRONMENT_STEPS: Array<[step: string, pattern: RegExp]> = [
  ["key, dist listing, interpreter", /^python environment [0-9a-f]+: building/],
  ["venv --without-pip + pip start-up", /^pip: /],
  ["pip resolve + install + byte-compile", /^pip: Successfully installed/],
  ["flush to disk (sync -f) + manifest", /^python environment [0-9a-f]+: built/],
];

export function environmentSteps(result: RunResult, sargeLog: string): Record<string, number> {
  let lines: Array<{ at: number; msg: string }>;
  try {
    lines = readFileSync(sargeLog, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { pid?: number; time?: string | number; msg?: string })
      .filter((entry) => entry.pid === result.pid && entry.msg !== undefined)
      .map((entry) => ({ at: typeof entry.time === "number" ? entry.time : Date.parse(String(entry.time)), msg: entry.msg! }));
  } catch {
    return {};
  }
  const start = lines.find((line) => /^unpacked \d+ entries/.test(line.msg));
  if (!start || !lines.some((line) => ENVIRONMENT_STEPS[3]![1].test(line.msg))) return {};
  const steps: Record<string, number> = {};
  let previous = start.at;
  for (const [step, pattern] of ENVIRONMENT_STEPS) {
    const line = lines.find((candidate) => candidate.at >= previous && pattern.test(candidate.msg));
    if (!line) continue;
    steps[step] = round(line.at - previous, 1);
    previous = line.at;
  }
  return steps;
}

import { describe, expect, it } from "vitest";
import { DEFAULT_PROCESS_SETTINGS, processSettings } from "../../../src/home/config-processes.js";
import { configFile, configRefusal, minimalConfig, parseConfigText } from "./config-text.js";

function processes(block: string) {
  return parseConfigText(`${minimalConfig}processes:\n${block}`).processes;
}

const refusal = (block: string): string => configRefusal(`${minimalConfig}processes:\n${block}`).message;

describe("processes: in etc/sarge.yaml", () => {
  it("gives every type the defaults without the block: TERM to the main process, 30 s grace, overlap, no limits", () => {
    const config = parseConfigText(minimalConfig);
    expect(config.processes).toEqual({});
    expect(processSettings(config.processes, "web")).toEqual({
      stopSignal: "SIGTERM",
      stopTo: "main",
      graceMs: 30_000,
      overlap: "always",
      limits: { nofile: null, memoryBytes: null },
    });
  });

  it("reads every key of a type, and the defaults for the keys left out", () => {
    const read = processes(
      "  web: {grace: 45s, stop_to: group, stop_signal: INT}\n  worker:\n    stop_signal: SIGQUIT\n    overlap: never\n    limits: {nofile: 4096, memory: 512MB}\n",
    );
    expect(read.web).toEqual({ ...DEFAULT_PROCESS_SETTINGS, stopSignal: "SIGINT", stopTo: "group", graceMs: 45_000 });
    expect(read.worker).toEqual({
      ...DEFAULT_PROCESS_SETTINGS,
      stopSignal: "SIGQUIT",
      overlap: "never",
      limits: { nofile: 4096, memoryBytes: 512 * 1024 ** 2 },
    });
  });

  it.each([
    ["usr1", "SIGUSR1"],
    ["SIGHUP", "SIGHUP"],
    ["term", "SIGTERM"],
  ])("takes the signal name %s with or without SIG, in any case", (written, signal) => {
    expect(processes(`  web: {stop_signal: ${written}}\n`).web!.stopSignal).toBe(signal);
  });

  it.each([
    ["  web: []\n", "processes.web: expected a mapping, got []"],
    ["  - web\n", 'processes: expected a mapping, got ["web"]'],
    ["  'we b': {grace: 1s}\n", 'processes.we b: expected a process type name of letters, digits, _ and -, got "we b"'],
    ["  web: {grace: soon}\n", 'processes.web.grace: expected a duration like "30s", "500ms" or "2m", got "soon"'],
    ["  web: {grace: 0s}\n", 'processes.web.grace: expected a duration like "30s", "500ms" or "2m", got "0s"'],
    ["  web: {stop_to: children}\n", 'processes.web.stop_to: expected main or group, got "children"'],
    ["  web: {stop_signal: KILL}\n", 'processes.web.stop_signal: expected a signal name like TERM, INT, QUIT or USR1 (with or without SIG), got "KILL"'],
    ["  web: {stop_signal: SIGSTOP}\n", 'processes.web.stop_signal: expected a signal name like TERM, INT, QUIT or USR1 (with or without SIG), got "SIGSTOP"'],
    ["  web: {stop_signal: NOPE}\n", 'processes.web.stop_signal: expected a signal name like TERM, INT, QUIT or USR1 (with or without SIG), got "NOPE"'],
    ["  web: {stop_signal: 15}\n", "processes.web.stop_signal: expected a signal name like TERM, INT, QUIT or USR1 (with or without SIG), got 15"],
    ["  web: {overlap: sometimes}\n", 'processes.web.overlap: expected always or never, got "sometimes"'],
    ["  web: {limits: {nofile: 10}}\n", "processes.web.limits.nofile: expected a whole number from 64 to 1048576, got 10"],
    ["  web: {limits: {nofile: lots}}\n", 'processes.web.limits.nofile: expected a whole number from 64 to 1048576, got "lots"'],
    ["  web: {limits: {memory: 1MB}}\n", 'processes.web.limits.memory: expected a size of at least 16MB, like "512MB" or "2GB", got "1MB"'],
    ["  web: {limits: {memory: big}}\n", 'processes.web.limits.memory: expected a size of at least 16MB, like "512MB" or "2GB", got "big"'],
    ["  web: {limits: 5}\n", "processes.web.limits: expected a mapping, got 5"],
  ])("refuses %j: %s", (block, message) => {
    expect(refusal(block)).toBe(`${configFile}: ${message}`);
  });

  it.each([
    ["  web: {graze: 1s}\n", "processes.web.graze", "stop_signal, stop_to, grace, overlap, limits"],
    ["  web: {limits: {cpu: 1}}\n", "processes.web.limits.cpu", "nofile, memory"],
  ])("names the known keys for an unknown one: %j", (block, key, known) => {
    expect(refusal(block)).toBe(`${configFile}: unknown key '${key}' (known keys: ${known})`);
  });
});

import type { Command } from "commander";
import type { FleetCliOptions } from "../push/fleet-setup.js";
import { TARGET_FORMAT } from "../push/target-format.js";
import { printJson } from "./output.js";
import { formatTable } from "./table.js";

/** The command line's flags: the fleet's options as given, and the single-host ones. */
type PushFlags = Omit<FleetCliOptions, "procs" | "envFile" | "cwd" | "say"> & { env: string; dryRun?: boolean; json?: boolean };

const FLEET_ONLY = ["parallel", "limit", "wait", "verify", "onFailure", "waitLock", "lb", "lbBackend", "drainTimeout", "json"] as const;

export function registerPush(program: Command): void {
  const push = program
    .command("push")
    .description(
      "from a git checkout: git archive HEAD | ssh <host> <home>/bin/sarge deploy - <proc...>, with the deploy's output streamed back and its exit code passed through; with several hosts, one release staged on all, then switched host by host and undone as a whole (docs/fleet.md)",
    )
    .argument("[target]", `${TARGET_FORMAT} (default: the hosts list, else SARGE_TARGET from .env, else from the environment); a first argument without a colon is a process type`)
    .argument("[proc...]", "process types to deploy (default: web)")
    .option("--dirty", "deploy the working tree as it is (changed and untracked files, not ignored ones) instead of refusing uncommitted changes; no commit id is recorded")
    .option("--ssh <command>", 'ssh command the arguments are appended to, run by /bin/sh (default: SARGE_SSH from .env or the environment, else "ssh")')
    .option("-e, --env <file>", "env file to read SARGE_TARGET, SARGE_HOSTS and SARGE_SSH from", ".env")
    .option("-n, --dry-run", "check the checkout and print the commands, deploy nothing (one target)")
    .option("--hosts <list>", `push to several hosts, each ${TARGET_FORMAT}, comma-separated (default: SARGE_HOSTS from .env, else hosts: in sarge-push.yaml)`)
    .option("--parallel <n>", "hosts staging at once (default: all)")
    .option("--limit <n|p%>", "hosts switching at once (default: 1)")
    .option("--wait <seconds>", "pause between two groups of switches (default: 0)")
    .option("--verify <seconds>", "after each host's switch, probe its stable addresses this long (default: until each passes 3 probes in a row)")
    .option("--on-failure <rollback|stop>", "when a switch or verification fails: switch the moved hosts back to what each ran before (rollback, default) or leave them (stop)")
    .option("--wait-lock <seconds>", "wait this long for each host's deploy lock (default: 300)")
    .option("--lb <target>", "the front HAProxy's runtime socket, [user@]host[:port]:/path/to/haproxy.sock: each host is drained there before its switch")
    .option("--lb-backend <name>", "the backend of --lb whose servers are named after the hosts")
    .option("--drain-timeout <seconds>", "how long to wait for a drained host's sessions to reach 0 (default: 30)")
    .option("--json", "with several hosts: print the result as JSON (fields: pushId, commit, outcome, exitCode, durationMs, hosts)")
    .action(async (first: string | undefined, rest: string[], options: PushFlags) => {
      // Targets always hold a colon and process types never do.
      const [target, procs] = first === undefined ? [undefined, rest] : first.includes(":") ? [first, rest] : [undefined, [first, ...rest]];
      const { planFleet, runFleet } = await import("../push/fleet-setup.js");
      const { ConfigError } = await import("../util/errors.js");
      if (target !== undefined && options.hosts !== undefined) throw new ConfigError("give a target or --hosts, not both");
      const fleet = target === undefined ? planFleet({ hosts: options.hosts, ssh: options.ssh, envFile: options.env }) : null;
      if (fleet === null) {
        const given = FLEET_ONLY.filter((flag) => options[flag] !== undefined).map((flag) => `--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
        if (given.length > 0) throw new ConfigError(`${given.join(", ")}: for a push to several hosts; give them with --hosts (one is fine)`);
        const { push } = await import("../push/push.js");
        process.exitCode = await push({ target, procs, dirty: options.dirty, ssh: options.ssh, envFile: options.env, dryRun: options.dryRun });
        return;
      }
      if (options.dryRun) throw new ConfigError("--dry-run is for a push to one target");
      const result = await runFleet(fleet, { ...options, procs, envFile: options.env });
      process.exitCode = result.exitCode;
      if (options.json) return printJson(result);
      process.stdout.write(
        formatTable(
          ["HOST", "PHASE", "STATE", "TIME", "RUNS", "NOTE"],
          result.hosts.map((host) => [host.host, host.phase, host.state, `${(host.durationMs / 1000).toFixed(1)}s`, host.runs, host.note ?? ""]),
        ),
      );
      process.stdout.write(`${pushOutcome[result.outcome]} (push ${result.pushId}, ${(result.durationMs / 1000).toFixed(1)}s)\n`);
    });

  push
    .command("status")
    .description("what each host of the hosts list runs, hosts whose active commit differs from the others' flagged (exit 1 then)")
    .option("--hosts <list>", "the hosts (default: SARGE_HOSTS from .env, else hosts: in sarge-push.yaml)")
    .option("--ssh <command>", "ssh command (default: SARGE_SSH, else ssh)")
    .option("-e, --env <file>", "env file to read SARGE_HOSTS and SARGE_SSH from", ".env")
    .option("--json", "print JSON (fields: host, proc, instance, release, commit, differs, error)")
    .action(async (_: unknown, command: Command) => {
      // --hosts and --ssh may come before "status" (sarge push --hosts a,b status): they are push's then
      const options = command.optsWithGlobals<{ hosts?: string; ssh?: string; env: string; json?: boolean }>();
      const { planFleet } = await import("../push/fleet-setup.js");
      const { fleetStatus } = await import("../push/fleet-status.js");
      const { ConfigError } = await import("../util/errors.js");
      const fleet = planFleet({ hosts: options.hosts, ssh: options.ssh, envFile: options.env });
      if (fleet === null) throw new ConfigError("no hosts: give --hosts, or SARGE_HOSTS in .env, or hosts: in sarge-push.yaml");
      const rows = await fleetStatus(fleet.sessions);
      process.exitCode = rows.some((row) => row.differs || row.error !== null) ? 1 : 0;
      if (options.json) return printJson(rows);
      process.stdout.write(
        formatTable(
          ["HOST", "PROC", "INSTANCE", "RELEASE", "COMMIT", ""],
          rows.map((row) => [row.host, row.proc ?? "-", row.instance ?? "-", row.release === null ? "-" : String(row.release), row.commit?.slice(0, 12) ?? "-", row.error ?? (row.differs ? "DIFFERS" : "")]),
        ),
      );
    });
}

const pushOutcome = {
  pushed: "pushed to every host",
  "not staged": "staging failed: no host changed, staged releases discarded",
  "rolled back": "a switch or verification failed: the moved hosts were switched back",
  stopped: "a switch or verification failed: stopped there (--on-failure stop), hosts left as shown",
} as const;

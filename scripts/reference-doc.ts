import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import type { Argument, Command, Option } from "commander";
import type { HistoryEntry } from "../src/release/history.js";
import { NOTIFY_TIMEOUT_MS, type NotifyPayload } from "../src/release/notify.js";
import type { DeployResult } from "../src/release/deploy.js";
import type { RollbackResult } from "../src/release/rollback.js";
import type { ActivateResult } from "../src/release/activate.js";
import type { DiscardResult } from "../src/release/discard.js";
import type { FleetResult } from "../src/push/fleet.js";
import type { FleetStatusRow } from "../src/push/fleet-status.js";
import type { VerifyResult } from "../src/instance/verify.js";
import type { InstanceView, ProcStatusView } from "../src/instance/views.js";
import { DeployFrozenError } from "../src/home/deploy-freeze.js";
import { ConfigError, ReleaseCancelledError, SargeError, SupervisorNotRunningError } from "../src/util/errors.js";
import type { InitReport } from "../src/home/init.js";
import type { WheelReport } from "../src/python-env/wheel.js";
import type { TokenView } from "../src/serve/tokens.js";
import type { BundleResult } from "../src/bundle/index.js";
import type { DeployFreeze } from "../src/home/deploy-freeze.js";
import type { UpgradeReport } from "../src/home/upgrade.js";
import { buildLocalProgram } from "../src/cli/local.js";

/**
 * docs/reference.md, generated from the commander definitions (commands,
 * arguments, options, descriptions, defaults) plus the tables below (config
 * keys, JSON output fields). test/unit/scripts/reference-doc.test.ts fails when the
 * file differs from what this renders, and checks the tables against the
 * config parser and the --json option descriptions. Regenerate with
 *
 *     npm run build && node build/scripts/reference-doc.js > docs/reference.md
 */
export const REGENERATE = "npm run build && node build/scripts/reference-doc.js > docs/reference.md";

/** Every field of T, optional ones included, described: the compiler refuses a missing or unknown field. */
type FieldDocs<T> = { [K in keyof Required<T>]: string };

export interface JsonOutputDoc {
  /** What the output is, e.g. "an array of objects, one per instance". */
  shape: string;
  /** Field name (nested ones as `instances[].id`) and meaning, in output order. */
  fields: Array<[string, string]>;
}

function fields<T>(docs: FieldDocs<T>, nested: Record<string, Array<[string, string]>> = {}): Array<[string, string]> {
  return Object.entries(docs as Record<string, string>).flatMap(([name, text]) => [[name, text] as [string, string], ...(nested[name] ?? [])]);
}

function nestedFields<T>(prefix: string, docs: FieldDocs<T>): Array<[string, string]> {
  return Object.entries(docs as Record<string, string>).map(([name, text]) => [`${prefix}.${name}`, text]);
}

const release = "release number (per home, counting deploys, stages, activations, rollbacks and config changes)";
const commit = "commit id git archive wrote into the archive, or null (none in the archive, e.g. a `--dirty` push)";

const instanceFields: FieldDocs<InstanceView> = {
  id: "instance id, `<proc>-<6 chars>`",
  proc: "process type",
  state: "sarge's view: `deploying`, `active` (receives the traffic), `staged` (running and ready, not routed: `sarge activate` switches to it) or `kept` (stopped, kept for rollback)",
  process: "the supervisor's view: `starting`, `running`, `backoff`, `stopping`, `stopped`, `missing` (unknown to the supervisor), or `unknown` (the supervisor is not running: the rest is what var/state.json says)",
  pid: "process id, or null when not running",
  port: "allocated port (from `port_range`)",
  release,
  commit,
  createdAt: "when the instance was created (ISO 8601)",
  activatedAt: "when it last became active (ISO 8601), or null",
  restarts: "automatic restarts after exits since it was last started",
};

const historyFields: FieldDocs<HistoryEntry> = {
  release,
  kind: "`deploy`, `rollback`, `config`, `stage` (`deploy --stage`: everything but the switch) or `activate`",
  procs: "process types it touched",
  instances: "instances it started (for a rollback: the one it went back to)",
  commit,
  user: "who ran it ($SUDO_USER, $USER or the login name)",
  from: "the ssh client address when run over ssh ($SSH_CLIENT), else null",
  startedAt: "start (ISO 8601)",
  finishedAt: "end (ISO 8601)",
  durationMs: "duration in milliseconds",
  outcome: "`success`, `failed`, or `cancelled` (by a signal before its switch; undone)",
  error: "failed only: the error message",
  detail: "rollback: `from <instance>`, `to <instance> (release N)`; config: the variable names changed (never values); activate: `release N` (the release it switched to), `from <instances>`",
  push: "the push it belongs to ($SARGE_PUSH_ID, set by `sarge push --hosts`): the same on every server of one push; absent otherwise",
};

/** The `--json` output of each command, keyed by command path (`deploy`, `config list`). */
export const JSON_OUTPUTS: Record<string, JsonOutputDoc> = {
  deploy: {
    shape: "an object",
    fields: fields<DeployResult>(
      {
        release,
        commit,
        instances: "the new instances, now active (with `--stage`: staged, on these ports): one per process type",
        durationMs: "the whole deploy, lock to lock, in milliseconds",
        switchMs: "per process type: how long the HAProxy switch took, in milliseconds (empty with `--stage`)",
        leftBehind: "active process types this deploy did not include that run another commit (or one not known): deploy them too",
      },
      {
        instances: nestedFields<DeployResult["instances"][number]>("instances[]", {
          id: "instance id",
          proc: "process type",
          port: "allocated port",
        }),
        leftBehind: nestedFields<DeployResult["leftBehind"][number]>("leftBehind[]", {
          proc: "process type",
          release: "the release its active instance came from",
          commit: "that instance's commit, or null",
        }),
      },
    ),
  },
  rollback: {
    shape: "an object",
    fields: fields<RollbackResult>({
      release,
      proc: "process type",
      from: "the instance that was active before, or null",
      to: "the instance active now",
      switchMs: "how long the HAProxy switch took, in milliseconds",
      durationMs: "the whole rollback in milliseconds",
    }),
  },
  activate: {
    shape: "an object",
    fields: fields<ActivateResult>(
      {
        release: "this activation's release number",
        commit,
        instances: "the instances active now, one per process type of the release",
        durationMs: "the whole activation, lock to lock, in milliseconds",
        switchMs: "per process type: how long the HAProxy switch took, in milliseconds",
        activated: "the staged (or kept) release that was activated",
      },
      {
        instances: nestedFields<ActivateResult["instances"][number]>("instances[]", {
          id: "instance id",
          proc: "process type",
          port: "its port",
        }),
      },
    ),
  },
  discard: {
    shape: "an object",
    fields: fields<DiscardResult>({
      release: "the staged release discarded",
      instances: "the instances stopped and removed",
    }),
  },
  push: {
    shape: "an object (with several hosts; a push to one target prints the remote deploy's output)",
    fields: fields<FleetResult>(
      {
        pushId: "the push id, on every history line the push wrote on every host",
        commit,
        outcome: "`pushed`, `not staged` (phase A failed, no host changed), `rolled back` or `stopped` (phase B failed)",
        exitCode: "0 pushed, 1 nothing changed, 2 a switch or verification failed",
        durationMs: "the whole push in milliseconds",
        hosts: "one per host, in the order of the hosts list",
      },
      {
        hosts: nestedFields<FleetResult["hosts"][number]>("hosts[]", {
          host: "the target as given",
          phase: "the last phase it went through: check, lock, stage, drain, activate, verify, ready, rollback, discard, done",
          state: "that phase's state: ok, failed, running, skipped, waiting",
          durationMs: "time spent in sarge commands on the host, in milliseconds",
          runs: "what it serves at the end: `release N (commit)`",
          note: "what the host said when the phase failed, or what it did (`staged release N`), or null",
          name: "the host name (its server name in --lb-backend)",
          before: "the instances it ran before the push ({proc, id, release, commit}): what a rollback returns to",
          staged: "the release staged there and not discarded, or null",
          moved: "whether it serves the pushed release at the end",
        }),
      },
    ),
  },
  "push status": {
    shape: "an array of objects, one per host and process type",
    fields: fields<FleetStatusRow>({
      host: "the target as given",
      proc: "process type, or null when the host runs nothing or did not answer",
      instance: "the active instance",
      release,
      commit,
      differs: "its commit differs from the one most hosts run for that process type",
      error: "why the host could not be asked, or null",
    }),
  },
  verify: {
    shape: "an object",
    fields: fields<VerifyResult>({
      procs: "the process types probed (those with a stable address)",
      probes: "how many probes, all answered",
      durationMs: "how long it probed, in milliseconds",
    }),
  },
  history: { shape: "an array of objects, oldest first, one per release: the lines of var/history.jsonl", fields: fields(historyFields) },
  list: { shape: "an array of objects, one per instance, by process type then newest release first", fields: fields(instanceFields) },
  status: {
    shape: "an array of objects, one per process type (those in `port_map` and those with instances)",
    fields: fields<ProcStatusView>({
      proc: "process type",
      active: "the active instance, or null",
      address: "stable address `host:port` from `port_map`, or null",
      port: "the active instance's own port, or null",
      process: "the active instance's supervisor state (as in `list`), or null",
      restarts: "the active instance's automatic restarts",
      healthy: "whether the stable address answers now (without one: whether the process runs); null while the supervisor is not running",
      problem: "null when HAProxy answers at the stable address, else why not: nothing answers, or another program listens there (its pid, user and command)",
      lastLines: "when not healthy: the last lines of the active instance's log, else empty",
      deployLock: "the deploy lock (`sarge lock`), the same on every row: `{reason, who, since}`, or null when deploys are open",
    }),
  },
  init: {
    shape: "an object",
    fields: fields<InitReport>(
      {
        home: "absolute path of the home",
        files: "every file init is responsible for",
        unitFile: "the systemd unit it wrote (under etc/)",
        unitName: "the unit's name for /etc/systemd/system",
      },
      {
        files: [
          ["files[].path", "absolute path"],
          ["files[].outcome", "`created`, or `kept` (it was there and is left exactly as it is)"],
        ],
      },
    ),
  },
  wheel: {
    shape: "an object",
    fields: fields<WheelReport>(
      {
        dist: "absolute path of the home's dist folder",
        results: "one entry per input, in order",
      },
      {
        results: [
          ["results[].input", "the argument as given"],
          ["results[].action", "`copied`, `built`, `present` (already in dist) or `failed`"],
          ["results[].files", "wheel file names now in dist for it"],
          ["results[].missingDependencies", "Requires-Dist entries of those wheels that dist cannot satisfy yet"],
          ["results[].error", "for `failed`: one sentence"],
          ["results[].detail", "for `failed`: pip's own words, when it ran"],
        ],
      },
    ),
  },
  "config list": {
    shape: "an object: variable name → value; every value is null unless `--show-values` is given",
    fields: [],
  },
  "token list": {
    shape: "an array of objects, one per token (revoked ones too), oldest first; never the token or its hash",
    fields: fields<TokenView>({
      name: "the token's name: the `user` of the releases it starts",
      role: "`viewer`, `deployer` or `admin` (docs/server.md)",
      createdAt: "when it was made (ISO 8601)",
      expiresAt: "when it stops working (ISO 8601), or null",
      window: 'its deploy window like `"mon-fri 08:00-18:00"`, or null',
      revokedAt: "when it was revoked (ISO 8601), or null",
    }),
  },
  upgrade: {
    shape: "an object",
    fields: fields<UpgradeReport>({
      home: "absolute path of the home",
      from: "the sarge version the home ran before, or null (a home made before homes were pinned)",
      to: "the sarge version it runs now (`<home>/opt/current`)",
      supervisor:
        "what happened to the supervisor, by `kind`: `restarted` (`from`, `to`: the daemon's pids; every app kept running), `current` (it ran that version already), `not running`, `restart needed` (a daemon of a sarge that cannot hand over: restart it), `supervisord files rendered`",
      removed: "copies removed from `<home>/opt/` (two are kept: current and previous)",
    }),
  },
  version: { shape: "an object", fields: [["sarge_version", "this sarge's version"]] },
  bundle: {
    shape: "an object",
    fields: fields<BundleResult>({
      file: "absolute path of the bundle written, `<app>-<commit>.tar.gz`",
      sha256: "the bundle's sha256, hex (what a Nomad artifact's checksum names)",
      bytes: "its size in bytes",
      app: "the app's name (`--name`, else the checkout folder's)",
      commit: "the commit bundled (HEAD)",
      wheels: "wheel file names under `.sarge/wheels/`",
      warning: "what the bundle does not pin (a pyproject.toml app without a lock), or null",
    }),
  },
  lock: {
    shape: "an object: the deploy lock now in place (docs/server.md)",
    fields: fields<DeployFreeze>({
      reason: "why deploys are locked, as given",
      who: "who locked them ($SARGE_ACTOR, else the user)",
      since: "when (ISO 8601)",
    }),
  },
};

/** The body POSTed to every `notify:` URL. */
export const NOTIFY_FIELDS: Array<[string, string]> = fields<NotifyPayload>({
  text: "one line for humans (what Slack and compatible webhooks show)",
  kind: "`deploy.started`, `deploy.succeeded`, `deploy.failed`, `rollback.succeeded` or `rollback.failed`",
  release,
  procs: "process types",
  instances: "the new instances (empty in deploy.started); for a rollback the instance it goes back to",
  commit: `${commit}; always null in deploy.started, sent before the archive is unpacked`,
  user: "who ran the deploy or rollback",
  host: "the server's host name",
  error: "failed events only: the error message",
  durationMs: "finished events only: duration in milliseconds",
  time: "when the notification was sent (ISO 8601)",
});

export interface ConfigKeyDoc {
  /** YAML key; a section's keys as `section.key`. */
  key: string;
  /** What the value looks like. */
  type: string;
  /** The default as YAML text, or null when the key is required (then `example` is used). */
  default: string | null;
  example?: string;
  /** Inclusive bounds of a whole-number key. */
  range?: [number, number];
  /** For a key whose default depends on other keys: the default in words (then `default` is null and `example` is what the default comes to beside the other examples). */
  derivedDefault?: string;
  description: string;
}

/** etc/sarge.yaml, in the parser's order (src/home/config.ts). */
export const CONFIG_KEYS: ConfigKeyDoc[] = [
  { key: "port_range", type: "`[low, high]` ports", default: null, example: "[5010, 5099]", description: "ports handed to instances, inclusive; must not contain a `port_map` port" },
  {
    key: "port_map",
    type: 'process type → `"host:port"` or a port',
    default: "{}",
    description: "stable address per process type, one HAProxy `listen` block each; a bare port listens on 127.0.0.1",
  },
  {
    key: "env",
    type: "NAME → string, number or boolean",
    default: "{}",
    description: "environment given to every process; edit with `sarge config set`/`unset` (applied as a zero-downtime release)",
  },
  { key: "haproxy_bin", type: "string", default: "haproxy", description: "HAProxy binary; a bare name is looked up on PATH (and /usr/sbin)" },
  { key: "python", type: "string", default: "python3", description: "interpreter for new virtualenvs" },
  { key: "dist", type: "path", default: "dist", description: "wheels and sdists, relative to the home unless absolute: the only place pip installs from" },
  { key: "supervisor", type: "`builtin` or `supervisord`", default: "builtin", description: "which supervisor runs the programs (`sarge init --supervisor`)" },
  { key: "keep_releases", type: "whole number", default: "3", range: [0, 1000], description: "stopped instances kept per process type for `sarge rollback`; older ones are destroyed" },
  { key: "health.timeout", type: "duration", default: "30s", description: "how long a new instance gets to become ready before the deploy fails" },
  {
    key: "health.http_path",
    type: 'null or a path like `"/up"`',
    default: "null",
    description: "null: ready when the port accepts a connection; a path: ready when GET answers 2xx or 3xx",
  },
  {
    key: "notify",
    type: "list of http(s) URLs",
    default: "[]",
    description: `each gets a JSON POST per deploy and rollback event (fields below), all URLs at once, each with a ${NOTIFY_TIMEOUT_MS / 1000} s timeout; a failure is a warning in var/log/sarge.log and on the terminal and never fails or delays the deploy further; URLs are logged by position and origin only (webhook secrets stay out of logs)`,
  },
  { key: "logs.max_bytes", type: "size", default: "10MB", description: "a program log (var/log/<instance>.log) is rotated at this size (docs/logging.md)" },
  { key: "logs.keep", type: "whole number", default: "5", range: [1, 100], description: "rotated files kept per program log: `<log>.1` (newest) … `<log>.<keep>`" },
  { key: "archive.max_bytes", type: "size", default: "1GiB", description: "an archive unpacking to more is refused" },
  { key: "archive.max_entries", type: "whole number", default: "100000", range: [1, 10_000_000], description: "an archive with more entries is refused" },
  { key: "archive.max_name_length", type: "whole number", default: "1024", range: [1, 4096], description: "longest path inside an archive" },
  { key: "webhook.secret", type: "string", default: null, example: "<openssl rand -hex 32>", description: "the secret GitHub signs deliveries with, 16 characters or more; without it `POST /hooks/github` does not exist; never shown in a message, a response or a log line" },
  { key: "webhook.repository", type: "URL or absolute path", default: null, example: "git@github.com:acme/app.git", description: "where deploys by git push or by ref are fetched from (into a bare mirror under var/webhook/); required with `secret`" },
  { key: "webhook.branch", type: "branch name", default: null, example: "main", description: "a push to this branch deploys" },
  { key: "webhook.tags", type: "pattern", default: null, example: '"v*"', description: "a pushed tag matching this pattern deploys (`*` any characters, `?` one); with `secret`, `branch` or `tags` (or both) is required" },
  { key: "webhook.procs", type: "list of process types", default: null, example: "[web, worker]", description: "the process types a push deploys; by default every type with an active instance, or `web`" },
  {
    key: "serve.listen",
    type: '`"host:port"` or a port',
    default: null,
    example: "127.0.0.1:5009",
    derivedDefault: "127.0.0.1 and the port just below `port_range`",
    description: "with a `serve:` block the home's supervisor runs `sarge serve` there (docs/server.md); not in `port_range` nor a `port_map` port",
  },
  { key: "serve.allow_remote", type: "boolean", default: "false", description: "a `listen` (or `tls.listen`) that is not a loopback address is refused unless true" },
  {
    key: "serve.tls",
    type: "null or `{cert, key, listen}`",
    default: "null",
    description: "PEM certificate and key files (relative to the home unless absolute): the home's HAProxy terminates TLS on `listen` and forwards to `serve.listen`",
  },
  { key: "serve.deploy_timeout", type: "duration", default: "30m", description: "a deploy the server runs fails after this long" },
  { key: "serve.idle_timeout", type: "duration", default: "10m", description: "a deploy the server runs fails after this long without output" },
  { key: "serve.failed_auth_limit", type: "whole number", default: "10", range: [1, 1_000_000], description: "refused tokens one client address may present per minute; after that it gets 429 until a minute has passed since the first" },
  {
    key: "processes",
    type: "process type → `{stop_signal, stop_to, grace, overlap, limits}`",
    default: "{}",
    description:
      "how each process type stops and starts (docs/configuration.md, \"Process types\"): by default `TERM` to the main process, 30 s `grace` (the drain of its switch, then SIGKILL to its group), old and new overlapping, no limits; `overlap: never` stops the old instance before the new one starts (that type has a gap); `limits.nofile` and `limits.memory` are rlimits set at start",
  },
];

/** Extra paragraphs after a command's description, keyed by command path. */
const NOTES: Record<string, string> = {
  push: [
    "Runs on the developer's machine, in the git checkout (the folder with the Procfile): `git archive HEAD | ssh [-p port] [user@]host <home>/bin/sarge deploy - <proc...>`. The deploy's output comes back as it happens and its exit code is sarge push's; ssh's own failures exit 255, a missing `<home>/bin/sarge` 127.",
    "The target is the argument, else `SARGE_TARGET` (or `TARGET`, as the fabfile flow's .env files had it) from the env file (`-e`, default `.env`), else `$SARGE_TARGET`: `[user@]host[:port]:/path/to/home`, or `host:~/path` relative to the remote user's home. The host may be an alias from `~/.ssh/config`, whose settings apply. `--ssh` (or `SARGE_SSH`, from the env file or the environment) replaces the ssh command, e.g. `ssh -i ~/.ssh/deploy_key`.",
    "Uncommitted changes in the archived folder (`git status --porcelain -- .`, untracked files included, except an untracked env file: it holds the target) are refused. `--dirty` deploys the working tree instead: tracked changes and untracked files that are not ignored, collected in a private index (your index is not touched); no commit id is recorded for it. Like `git archive HEAD`, run in a subfolder it deploys that subfolder. examples/fabfile.py does the same with Fabric.",
  ].join("\n\n"),
};

/** Commands whose real definition is a separate commander program (parsed verbatim from argv). */
const DELEGATED: Record<string, () => Command> = { local: buildLocalProgram };

export function renderReference(program: Command): string {
  const out: string[] = [];
  const help = program.createHelp();
  const commands = walk(program, help);

  out.push(
    "# sarge reference",
    "",
    `<!-- Generated from the commander definitions by scripts/reference-doc.ts; do not edit. Regenerate: ${REGENERATE} -->`,
    "",
    `${program.name()}: ${program.description()}. Every command and subcommand prints its help with \`-h\` or \`--help\` (and \`${program.name()} help <command>\`).`,
    "",
    "- [Commands](#commands)",
    "- [Configuration: etc/sarge.yaml](#configuration-etcsargeyaml)",
    "- [Notifications](#notifications)",
    "- [Exit codes](#exit-codes)",
    "",
    "Every `--json` output carries `sarge_version`, the version of the sarge that printed it: first in an object, in each element of an array. A checkout's version is `<package.json version>+<hash of its build>` (src/util/version.ts).",
    "",
    "## Global options",
    "",
    `Given before the command (\`${program.name()} --home /var/local/myapp list\`); the bin/sarge wrapper in a home passes \`--home\` itself.`,
    "",
    ...optionTable(program.options.filter((option) => !option.hidden), help),
    "",
    "## Commands",
    "",
    ...commands.map(({ path, command }) => `- [\`${path}\`](#${anchor(path)}): ${inline(command.description())}`),
    "",
  );

  for (const { path, command, inherited } of commands) {
    const key = path.split(" ").slice(1).join(" ");
    out.push(`### ${path}`, "", "```", help.commandUsage(command), "```", "", inline(command.description()), "");
    if (NOTES[key]) out.push(NOTES[key], "");
    const args = command.registeredArguments;
    if (args.length > 0) out.push("| argument | meaning |", "|---|---|", ...args.map((arg) => row(`\`${argumentTerm(arg)}\``, help.argumentDescription(arg))), "");
    const options = command.options.filter((option) => !option.hidden && !inherited.has(option.flags));
    if (options.length > 0) out.push(...optionTable(options, help), "");
    if (inherited.size > 0) out.push(`Also takes the common options of \`${command.parent!.name()}\`, before or after the command name.`, "");
    const json = JSON_OUTPUTS[key];
    if (json && command.options.some((option) => option.long === "--json")) {
      out.push(`With \`--json\`: ${inline(json.shape)}.`, "");
      if (json.fields.length > 0) out.push("| field | meaning |", "|---|---|", ...json.fields.map(([name, text]) => row(`\`${name}\``, text)), "");
    }
  }

  out.push(
    "## Configuration: etc/sarge.yaml",
    "",
    "Unknown keys, wrong types, an overlapping `port_range` and `port_map`, or an unparsable file are refused with the file name, the key and what was expected.",
    'Durations: `30s`, `500ms`, `2m`, `1h`, `90d` or a number of seconds. Sizes: `10MB`, `512KB`, `1GiB` or a number of bytes (K, M and G are powers of 1024).',
    "",
    "| key | value | default | meaning |",
    "|---|---|---|---|",
    ...CONFIG_KEYS.map((entry) =>
      row(
        `\`${entry.key}\``,
        entry.range ? `${entry.type}, ${entry.range[0]} to ${entry.range[1]}` : entry.type,
        entry.derivedDefault ?? (entry.default === null ? `required, e.g. \`${entry.example}\`` : `\`${entry.default}\``),
        entry.description,
      ),
    ),
    "",
    "## Notifications",
    "",
    `For each URL in \`notify\`, sarge POSTs one JSON object (\`Content-Type: application/json\`) when a deploy starts, succeeds or fails and when a rollback succeeds or fails. \`text\` makes it a valid Slack (and Mattermost, Rocket.Chat, Discord \`/slack\`) incoming-webhook message; the other fields are for programs. Each URL gets ${NOTIFY_TIMEOUT_MS / 1000} s from connection to answer, all at once; anything but a 2xx answer in time is logged as a warning and otherwise ignored. \`deploy.started\` goes out while the deploy goes on, so an endpoint that never answers delays a deploy by one timeout at most, at its end (with the home lock still held, as the last step); at an endpoint slower than the deploy itself the two notices may arrive out of order, and \`time\` tells which was sent first.`,
    "",
    "| field | meaning |",
    "|---|---|",
    ...NOTIFY_FIELDS.map(([name, text]) => row(`\`${name}\``, text)),
    "",
    "## Exit codes",
    "",
    "| code | meaning |",
    "|---|---|",
    row("`0`", "success"),
    row(`\`${new SargeError("").exitCode}\``, "the command failed, and says why (deploy and rollback: at which step; the running version is untouched); also usage errors found by the command-line parser (a missing argument, an unknown option)"),
    row(`\`${new ConfigError("").exitCode}\``, "bad etc/sarge.yaml, or input sarge itself refuses (an invalid process type or target); `sarge local` usage errors, as honcho"),
    row(`\`${new SupervisorNotRunningError("").exitCode}\``, "the home's supervisor is not running (start it with `<home>/bin/supervisord`); `list` and `status` still print what var/state.json says"),
    row(`\`${new DeployFrozenError({ reason: "", who: "", since: "" }).exitCode}\``, "a deploy refused because deploys are locked (`sarge lock`); the message gives the reason and who locked it"),
    row(`\`${new ReleaseCancelledError("", "").exitCode}\``, "a deploy, rollback or config change cancelled by SIGTERM or SIGINT before its switch: undone, recorded as cancelled in history"),
    row("`70`", "an unexpected error (a bug): the message and stack trace are printed"),
    "",
    "`sarge run` and `sarge local run` exit with the command's status; `sarge push` with the remote deploy's (255 when ssh fails).",
    "",
  );
  return out.join("\n");
}

interface Entry {
  /** Full command path, e.g. `sarge config set`. */
  path: string;
  command: Command;
  /** Option flags the command shares with its parent (honcho's common options): documented once, at the parent. */
  inherited: Set<string>;
}

/** Every documented command, depth first in --help order; `help` commands are left out (mentioned once). */
function walk(parent: Command, help: ReturnType<Command["createHelp"]>, prefix = parent.name()): Entry[] {
  return help
    .visibleCommands(parent)
    .filter((command) => command.name() !== "help")
    .flatMap((listed) => {
      const command = DELEGATED[listed.name()]?.() ?? listed;
      const path = `${prefix} ${listed.name()}`;
      const parentFlags = new Set(command === listed ? parent.options.map((option) => option.flags) : []);
      const inherited = new Set(command.options.map((option) => option.flags).filter((flags) => parentFlags.has(flags)));
      return [{ path, command, inherited }, ...walk(command, help, path)];
    });
}

function optionTable(options: readonly Option[], help: ReturnType<Command["createHelp"]>): string[] {
  if (options.length === 0) return [];
  return ["| option | meaning |", "|---|---|", ...options.map((option) => row(`\`${help.optionTerm(option)}\``, help.optionDescription(option)))];
}

function argumentTerm(arg: Argument): string {
  const name = `${arg.name()}${arg.variadic ? "..." : ""}`;
  return arg.required ? `<${name}>` : `[${name}]`;
}

function row(...cells: string[]): string {
  return `| ${cells.map(cell).join(" | ")} |`;
}

/** A table cell: inline text with `|` escaped everywhere (GFM tables need it inside code spans too). */
function cell(text: string): string {
  return inline(text).replaceAll("|", "\\|");
}

/** Text that may hold `code spans`: outside them `<` and `>` are escaped so `<home>` is not taken for HTML. */
function inline(text: string): string {
  return text
    .replace(/\s*\n\s*/g, " ")
    .split(/(`[^`]*`)/)
    .map((part) => (part.startsWith("`") && part.endsWith("`") && part.length > 1 ? part : part.replaceAll("<", "&lt;").replaceAll(">", "&gt;")))
    .join("");
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to dashes. */
function anchor(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replaceAll(" ", "-");
}

/** `node build/scripts/reference-doc.js > docs/reference.md` */
async function runDirectly(): Promise<void> {
  const { buildProgram } = await import("../src/cli/main.js");
  process.stdout.write(renderReference(await buildProgram()));
}

function runAsScript(): boolean {
  try {
    return process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

if (runAsScript()) await runDirectly();

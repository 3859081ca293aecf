import { join, resolve } from "node:path";

/** Every path sarge owns inside one home (docs/architecture.md, "Where state lives"). */
export interface HomePaths {
  root: string;
  bin: string;
  /** sarge-<version>/ copies of sarge, and `current` / `previous` links to them (src/home/pinned-sarge.ts). */
  opt: string;
  dist: string;
  etc: string;
  config: string;
  haproxyCfg: string;
  supervisorEtc: string;
  deploy: string;
  envs: string;
  log: string;
  run: string;
  state: string;
  history: string;
  sargeLog: string;
  supervisorSocket: string;
  haproxyAdminSocket: string;
  haproxyMasterSocket: string;
  haproxyPid: string;
  deployLock: string;
  /** Webhook deploys: the delivery log and the bare mirror of webhook.repository. */
  webhook: string;
}

export function homePaths(home: string): HomePaths {
  const root = resolve(home);
  const etc = join(root, "etc");
  const varDir = join(root, "var");
  const run = join(varDir, "run");
  const log = join(varDir, "log");
  return {
    root,
    bin: join(root, "bin"),
    opt: join(root, "opt"),
    dist: join(root, "dist"),
    etc,
    config: join(etc, "sarge.yaml"),
    haproxyCfg: join(etc, "haproxy", "haproxy.cfg"),
    supervisorEtc: join(etc, "supervisor"),
    deploy: join(root, "deploy"),
    envs: join(varDir, "envs"),
    log,
    run,
    state: join(varDir, "state.json"),
    history: join(varDir, "history.jsonl"),
    sargeLog: join(log, "sarge.log"),
    supervisorSocket: join(run, "supervisor.sock"),
    haproxyAdminSocket: join(run, "haproxy-admin.sock"),
    haproxyMasterSocket: join(run, "haproxy-master.sock"),
    haproxyPid: join(run, "haproxy.pid"),
    deployLock: join(run, "deploy.lock"),
    webhook: join(varDir, "webhook"),
  };
}

export function instanceLogPath(paths: HomePaths, name: string): string {
  return join(paths.log, `${name}.log`);
}

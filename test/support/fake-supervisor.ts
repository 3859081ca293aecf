import { createServer, type Server } from "node:net";
import type { ProgramSpec, ProgramStatus, Supervisor } from "../../src/supervise/supervisor.js";
import { Faults, matches } from "./faults.js";

type SupervisorCall = "start" | "startExisting" | "stop" | "remove";

interface Program {
  spec: ProgramSpec;
  status: ProgramStatus;
  /** A started program "runs" as a TCP listener on its PORT, so readiness probes a real socket. */
  server: Server | null;
}

/**
 * The Supervisor interface in memory, for unit tests of the release
 * transaction: it refuses what the real backends refuse (a second start of a
 * running name, stop of an unknown one), and fails where a test planted a fault.
 */
export class FakeSupervisor implements Supervisor {
  readonly faults = new Faults<SupervisorCall>();
  private readonly programs = new Map<string, Program>();
  private readonly crashing: string[] = [];

  /** Programs named `name`, or of process type `name`, exit at once whenever they are started. */
  crashOnStart(name: string): void {
    this.crashing.push(name);
  }

  start(spec: ProgramSpec): Promise<ProgramStatus> {
    return this.faults.run("start", spec.name, () => {
      if (this.programs.get(spec.name)?.status.wanted) throw new Error(`program ${spec.name} is already running`);
      this.programs.set(spec.name, { spec, status: stoppedStatus(spec), server: null });
      return this.launch(spec.name);
    });
  }

  startExisting(name: string): Promise<ProgramStatus> {
    return this.faults.run("startExisting", name, () => this.launch(name));
  }

  stop(name: string): Promise<ProgramStatus> {
    return this.faults.run("stop", name, async () => {
      const program = this.known(name);
      await closeServer(program);
      program.status = stoppedStatus(program.spec, program.status.lastExit);
      return { ...program.status };
    });
  }

  remove(name: string): Promise<void> {
    return this.faults.run("remove", name, async () => {
      const program = this.programs.get(name);
      if (!program) return;
      await closeServer(program);
      this.programs.delete(name);
    });
  }

  async status(): Promise<ProgramStatus[]> {
    return [...this.programs.values()].map((program) => ({ ...program.status }));
  }

  async close(): Promise<void> {}

  /** The status of one program, or undefined when the supervisor does not know it. */
  async statusOf(name: string): Promise<ProgramStatus | undefined> {
    return (await this.status()).find((program) => program.name === name);
  }

  /** Close every listener: the end of a test. */
  async shutdown(): Promise<void> {
    await Promise.all([...this.programs.values()].map(closeServer));
    this.programs.clear();
  }

  private known(name: string): Program {
    const program = this.programs.get(name);
    if (!program) throw new Error(`no such program: ${name}`);
    return program;
  }

  private async launch(name: string): Promise<ProgramStatus> {
    const program = this.known(name);
    if (program.status.wanted) throw new Error(`program ${name} is already running`);
    const crashes = this.crashing.some((match) => matches(match, name));
    const port = program.spec.env.PORT;
    program.server = crashes || port === undefined ? null : await listen(Number(port));
    program.status = crashes
      ? { ...program.status, state: "backoff", wanted: true, lastExit: "exit 1" }
      : // the listener lives in this process: readiness finds its socket held by this pid
        { ...program.status, state: "running", wanted: true, pid: process.pid, startedAt: new Date().toISOString() };
    return { ...program.status };
  }
}

function stoppedStatus(spec: ProgramSpec, lastExit: string | null = null): ProgramStatus {
  return { name: spec.name, state: "stopped", wanted: false, pid: null, startedAt: null, restarts: 0, lastExit, logFile: spec.logFile };
}

function listen(port: number): Promise<Server> {
  const server = createServer((socket) => socket.destroy());
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

async function closeServer(program: Program): Promise<void> {
  const server = program.server;
  program.server = null;
  if (server) await new Promise((resolve) => server.close(resolve));
}

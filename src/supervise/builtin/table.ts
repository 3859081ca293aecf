import { SargeError } from "../../util/errors.js";
import { rotateIfFull } from "../rotating-log.js";
import type { ProgramSpec, ProgramStatus } from "../supervisor.js";
import { Program, type ProgramHooks } from "./program.js";
import type { ProgramRecord } from "./store.js";
import { compareText } from "../../util/compare-text.js";

export interface TableHooks {
  save(records: ProgramRecord[]): void;
  log(line: string): void;
  warn(line: string): void;
}

/** Every program of one home, by name; what the socket requests act on. */
export class ProgramTable {
  private readonly programs = new Map<string, Program>();
  private readonly programHooks: ProgramHooks;
  private closing = false;
  private rotating = false;

  constructor(
    records: ProgramRecord[],
    private readonly hooks: TableHooks,
  ) {
    this.programHooks = { changed: () => this.save(), log: hooks.log, warn: hooks.warn };
    for (const record of records) this.programs.set(record.spec.name, new Program(record, this.programHooks));
  }

  /** Takes back the programs the previous daemon left (see Program.recover). */
  async recover(): Promise<void> {
    await Promise.all([...this.programs.values()].map((program) => program.recover()));
  }

  async start(spec: ProgramSpec): Promise<ProgramStatus> {
    this.refuseWhenClosing();
    const previous = this.programs.get(spec.name);
    if (previous && (previous.wanted || previous.state !== "stopped")) {
      throw new SargeError(`program ${spec.name} is already ${previous.state}; stop it before starting it with a new spec`);
    }
    // Registered (and wanted) before the first await, so a concurrent start of the same name is refused.
    const program = new Program({ spec, wanted: true, pid: null, startTime: null, bootId: null, startedAt: null, restarts: 0, lastExit: null }, this.programHooks);
    this.programs.set(spec.name, program);
    try {
      await program.start();
    } catch (error) {
      if (this.programs.get(spec.name) === program) {
        if (previous) this.programs.set(spec.name, previous);
        else this.programs.delete(spec.name);
        this.save();
      }
      throw error;
    }
    return program.status();
  }

  async startExisting(name: string): Promise<ProgramStatus> {
    this.refuseWhenClosing();
    const program = this.get(name);
    await program.start();
    return program.status();
  }

  async stop(name: string): Promise<ProgramStatus> {
    this.refuseWhenClosing();
    const program = this.get(name);
    await program.stop();
    return program.status();
  }

  async remove(name: string): Promise<void> {
    this.refuseWhenClosing();
    const program = this.programs.get(name);
    if (!program) return;
    await program.stop();
    if (program.wanted) throw new SargeError(`program ${name} was started again while being removed`);
    if (this.programs.get(name) === program) this.programs.delete(name);
    this.save();
  }

  status(): ProgramStatus[] {
    return [...this.programs.values()].map((program) => program.status()).sort((a, b) => compareText(a.name, b.name));
  }

  /** The daemon is going away: stop every program, keeping them wanted for the next daemon. */
  async shutdown(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.programs.values()].map((program) => program.shutdown()));
  }

  /** Called every second; one pass at a time, so a slow copy is never rotated twice. */
  async rotateLogs(): Promise<void> {
    if (this.rotating) return;
    this.rotating = true;
    try {
      for (const program of this.programs.values()) {
        if (program.pid === null) continue;
        const { logFile } = program.spec;
        try {
          if (await rotateIfFull(logFile, program.logLimits)) this.hooks.log(`rotated ${logFile}`);
        } catch (error) {
          this.hooks.warn(`cannot rotate ${logFile}: ${(error as Error).message}`);
        }
      }
    } finally {
      this.rotating = false;
    }
  }

  private get(name: string): Program {
    const program = this.programs.get(name);
    if (!program) throw new SargeError(`no program named ${name}`);
    return program;
  }

  private refuseWhenClosing(): void {
    if (this.closing) throw new SargeError("the supervisor is shutting down");
  }

  /** A failed write is reported and retried with the next change; the programs keep running. */
  private save(): void {
    try {
      this.hooks.save([...this.programs.values()].map((program) => program.record()));
    } catch (error) {
      this.hooks.warn(`cannot save the program list: ${(error as Error).message}`);
    }
  }
}

import type { HomeContext } from "../home/context.js";

/**
 * A release's cancel: asked for (by a signal to the command) at any time,
 * honoured at the next step or by the long steps (pip, the release hook, the
 * readiness wait) stopping their child processes, until the switch begins.
 * From then on the release has to finish: a request is refused, and rollback
 * is how it is undone.
 */
export class ReleaseCancel {
  private readonly controller = new AbortController();
  private switching = false;

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Ask for the cancel; false once the switch has begun (the release will finish). */
  request(): boolean {
    if (this.switching) return false;
    this.controller.abort();
    return true;
  }

  /** The point of no return: called at the start of the switch, after a last look at the signal. */
  beginSwitch(): void {
    this.switching = true;
  }
}

const SIGNALS = ["SIGTERM", "SIGINT"] as const;

/**
 * Run a release command so that SIGTERM or SIGINT cancels it (see
 * ReleaseCancel) instead of killing it halfway; a signal after the switch has
 * begun only says the release will finish.
 */
export async function cancelOnSignals<T>(ctx: HomeContext, work: () => Promise<T>): Promise<T> {
  const cancel = new ReleaseCancel();
  ctx.cancel = cancel;
  const onSignal = (signal: NodeJS.Signals) => {
    if (cancel.signal.aborted) return;
    if (cancel.request()) ctx.reporter.line(`${signal}: cancelling; the release stops at the next safe point and undoes what it made`);
    else ctx.reporter.line(`${signal} ignored: the release is already switching and will finish; undo it afterwards with sarge rollback`);
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  try {
    return await work();
  } finally {
    for (const signal of SIGNALS) process.off(signal, onSignal);
    delete ctx.cancel;
  }
}

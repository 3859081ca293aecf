/**
 * Faults a unit test plants in a fake (supervisor, router): the n-th matching
 * call fails, waits until the test lets it go, or never returns (sarge
 * "killed" making it). A fault fires once.
 */

interface Fault<Call extends string> {
  call: Call;
  match: string;
  nth: number;
  seen: number;
  /** An error message; or the call never reaches the fake and its caller never hears back (killed); or it waits to be let go (held). */
  outcome: string | { killed: () => void } | { held: (letGo: () => void) => void };
}

export class Faults<Call extends string> {
  private readonly planted: Array<Fault<Call>> = [];
  /** Every call made, as "<call> <name>", in order. */
  readonly calls: string[] = [];

  /** The `nth` call of `call` on `match` (a name, or a process type: "web" matches web-k3x9qa) throws `message`. */
  failOn(call: Call, match: string, message: string, nth = 1): void {
    this.planted.push({ call, match, nth, seen: 0, outcome: message });
  }

  /**
   * The `nth` call of `call` on `match` never returns and never takes effect,
   * as if sarge were killed making it: the release stops there for good, its
   * lock and state left as a killed process leaves them. Resolves once it happened.
   */
  killOn(call: Call, match: string, nth = 1): Promise<void> {
    return new Promise((killed) => this.planted.push({ call, match, nth, seen: 0, outcome: { killed } }));
  }

  /** The `nth` call of `call` on `match` waits, under way, until the test lets it go. Resolves once it waits, with the function that lets it go. */
  holdOn(call: Call, match: string, nth = 1): Promise<() => void> {
    return new Promise((held) => this.planted.push({ call, match, nth, seen: 0, outcome: { held } }));
  }

  /** Run one call of a fake through the planted faults. */
  async run<T>(call: Call, name: string, work: () => Promise<T> | T): Promise<T> {
    this.calls.push(`${call} ${name}`);
    const relevant = this.planted.filter((candidate) => candidate.call === call && matches(candidate.match, name));
    for (const candidate of relevant) candidate.seen++;
    const fault = relevant.find((candidate) => candidate.seen === candidate.nth);
    const outcome = fault?.outcome;
    if (typeof outcome === "string") throw new Error(outcome);
    if (outcome && "killed" in outcome) {
      outcome.killed();
      return new Promise<never>(() => undefined);
    }
    if (outcome) await new Promise<void>((letGo) => outcome.held(letGo));
    return work();
  }
}

/** `match` names `name` itself, or its process type ("web" matches web-k3x9qa). */
export function matches(match: string, name: string): boolean {
  return name === match || name.startsWith(`${match}-`);
}

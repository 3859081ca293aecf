/** The command a run names: the first operand after the program's own options (only --home takes a value). */
export function commandNameOf(argv: string[]): string | undefined {
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--home") i++;
    else if (!arg.startsWith("-")) return arg;
    else if (!arg.startsWith("--home=")) return undefined;
  }
  return undefined;
}

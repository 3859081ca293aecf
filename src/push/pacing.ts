import { SargeError } from "../util/errors.js";

/**
 * `--limit N|P%`: how many hosts switch at once in phase B. Returns the
 * groups in order; P% of the hosts is rounded up, so every group holds at
 * least one host.
 */
export function rolloutGroups<T>(hosts: T[], limit: string): T[][] {
  const match = /^(\d+)(%?)$/.exec(limit.trim());
  const value = match ? Number(match[1]) : 0;
  if (!match || value < 1 || (match[2] === "%" && value > 100)) {
    throw new SargeError(`--limit ${JSON.stringify(limit)}: expected a number of hosts (2) or a percentage of them (25%)`, { exitCode: 2 });
  }
  const size = match[2] === "%" ? Math.ceil((hosts.length * value) / 100) : value;
  const groups: T[][] = [];
  for (let start = 0; start < hosts.length; start += size) groups.push(hosts.slice(start, start + size));
  return groups;
}

/** Run `work` on each item, at most `parallel` at a time; stop starting new ones once `stop()` says so. Never abandons one that started. */
export async function inBatches<T>(items: T[], parallel: number, work: (item: T) => Promise<void>, stop: () => boolean = () => false): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length && !stop()) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallel, items.length)) }, lane));
}

import { loadConfig } from "../../home/config.js";
import type { HomePaths } from "../../home/paths.js";
import { withoutCredentials, type MirrorCommit } from "../webhook/mirror.js";
import { homeMirror } from "../webhook/source.js";

const listed = 20;
/** The page does not wait longer for the repository (a deploy's fetch ahead of it may take minutes); the fetch goes on. */
const LIST_DEADLINE_MS = 5_000;

/** What /deploy offers to pick from: the latest commits of webhook.branch (or the repository's HEAD), or why they cannot be listed. */
export interface CommitChoice {
  repository: string;
  branch: string;
  commits: Array<MirrorCommit & { short: string }>;
  error: string | null;
}

/** null when webhook.repository is not configured: the page offers the upload only. */
export async function commitChoice(paths: HomePaths, deadlineMs = LIST_DEADLINE_MS): Promise<CommitChoice | null> {
  const { repository, branch } = loadConfig(paths).webhook;
  if (repository === null) return null;
  const ref = branch ?? "HEAD";
  const shown = { repository: withoutCredentials(repository), branch: ref };
  const mirror = homeMirror(paths);
  const listing = (async () => {
    const tip = await mirror.resolve(repository, { ref });
    return mirror.commitsOf(tip, listed);
  })();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), deadlineMs)));
  try {
    const commits = await Promise.race([listing, late]);
    if (commits === "late") {
      listing.catch(() => undefined);
      return { ...shown, commits: [], error: `the repository has not answered within ${deadlineMs / 1000} s (the fetch goes on: reload the page in a moment, or upload an archive)` };
    }
    return { ...shown, commits: commits.map((commit) => ({ ...commit, short: commit.id.slice(0, 7) })), error: null };
  } catch (error) {
    return { ...shown, commits: [], error: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

import { loadConfig } from "../../home/config.js";
import type { HomePaths } from "../../home/paths.js";
import { withoutCredentials, type MirrorCommit } from "../webhook/mirror.js";
import { homeMirror } from "../webhook/source.js";

const listed = 20;

/** What /deploy offers to pick from: the latest commits of webhook.branch (or the repository's HEAD), or why they cannot be listed. */
export interface CommitChoice {
  repository: string;
  branch: string;
  commits: Array<MirrorCommit & { short: string }>;
  error: string | null;
}

/** null when webhook.repository is not configured: the page offers the upload only. */
export async function commitChoice(paths: HomePaths): Promise<CommitChoice | null> {
  const { repository, branch } = loadConfig(paths).webhook;
  if (repository === null) return null;
  const ref = branch ?? "HEAD";
  const shown = { repository: withoutCredentials(repository), branch: ref };
  const mirror = homeMirror(paths);
  try {
    const tip = await mirror.resolve(repository, { ref });
    const commits = await mirror.commitsOf(tip, listed);
    return { ...shown, commits: commits.map((commit) => ({ ...commit, short: commit.id.slice(0, 7) })), error: null };
  } catch (error) {
    return { ...shown, commits: [], error: (error as Error).message };
  }
}

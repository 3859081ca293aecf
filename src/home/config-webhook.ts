import { processTypePattern } from "../procfile/parse.js";
import { isCommitId, refProblem } from "../util/git-ref.js";
import { ConfigError } from "../util/errors.js";
import type { ConfigReader } from "./config.js";
import type { WebhookConfig } from "./config-types.js";

/** This module, whose source is part of the config cache's key (config.ts, cachedParse). */
export const webhookParserFile = import.meta.url;

/** GitHub accepts any secret; one this short could be guessed. */
const minSecretLength = 16;

/** The `webhook:` block (docs/server.md, "Webhook deploys"). The secret is never echoed in a message. */
export function readWebhook(read: ConfigReader, value: unknown): WebhookConfig {
  const webhook = read.section<WebhookConfig>(value, "webhook", {
    secret: ["secret", (v, k) => secret(read, v, k), null],
    repository: ["repository", (v, k) => repository(read, v, k), null],
    branch: ["branch", (v, k) => branch(read, v, k), null],
    tags: ["tags", (v, k) => tagPattern(read, v, k), null],
    procs: ["procs", (v, k) => procs(read, v, k), null],
  });
  if (webhook.secret !== null && webhook.repository === null) {
    throw new ConfigError(`${read.file}: webhook.secret is set but webhook.repository is not: give the URL or path sarge fetches pushed commits from`);
  }
  if (webhook.secret !== null && webhook.branch === null && webhook.tags === null) {
    throw new ConfigError(`${read.file}: webhook: say what a push deploys: branch (like main) or tags (a pattern like "v*"), or both`);
  }
  return webhook;
}

function secret(read: ConfigReader, value: unknown, key: string): string {
  if (typeof value !== "string" || value.length < minSecretLength || value.trim() !== value) {
    throw new ConfigError(
      `${read.file}: ${key}: expected a string of at least ${minSecretLength} characters without surrounding spaces (the value is not shown); make one with: openssl rand -hex 32`,
    );
  }
  return value;
}

/** An absolute path, a URL (https://, ssh://, file://) or scp-like `user@host:path`: never relative to wherever the server runs. */
function repository(read: ConfigReader, value: unknown, key: string): string {
  const text = read.string(value, key);
  if (text.startsWith("-") || /[\s\0-\x1f]/.test(text)) read.fail(key, "a repository URL or absolute path (no spaces, not starting with -)", value);
  if (!text.startsWith("/") && !/^[a-z][a-z0-9+.-]*:\/\//i.test(text) && !/^[^/:]+:/.test(text)) {
    read.fail(key, "a URL (https://…, ssh://…), user@host:path, or an absolute path", value);
  }
  return text;
}

function branch(read: ConfigReader, value: unknown, key: string): string {
  const text = read.string(value, key);
  const problem = text.startsWith("refs/") ? "give the branch name without refs/heads/" : isCommitId(text) ? "that is a commit id" : refProblem(text);
  if (problem) read.fail(key, `a branch name (${problem})`, value);
  return text;
}

/** A glob over tag names: `*` any characters, `?` one; the rest must be valid in a tag name. */
function tagPattern(read: ConfigReader, value: unknown, key: string): string {
  const text = read.string(value, key);
  const problem = text.startsWith("refs/") ? "give the pattern without refs/tags/" : refProblem(`refs/tags/${text.replace(/[*?]/g, "x")}`);
  if (problem) read.fail(key, `a tag pattern like "v*" (${problem})`, value);
  return text;
}

function procs(read: ConfigReader, value: unknown, key: string): string[] {
  if (!Array.isArray(value) || value.length === 0) read.fail(key, "a list of process types, like [web, worker]", value);
  return value.map((proc, index) => {
    if (typeof proc !== "string" || !processTypePattern.test(proc)) read.fail(`${key}[${index}]`, "a process type of letters, digits, _ and -", proc);
    return proc;
  });
}

/**
 * Lock files pip cannot read: an app that has only one of them is refused with the command that
 * exports it to a hashed requirements.txt (each tool's own documented export).
 */
import { SargeError } from "../util/errors.js";

export const LOCK_EXPORTS: ReadonlyArray<{ file: string; tool: string; command: string }> = [
  { file: "uv.lock", tool: "uv", command: "uv export --format requirements.txt --no-dev -o requirements.txt" },
  {
    file: "poetry.lock",
    tool: "Poetry",
    command: "poetry export -f requirements.txt --output requirements.txt (Poetry 2 needs its export plugin first: poetry self add poetry-plugin-export)",
  },
  { file: "pdm.lock", tool: "PDM", command: "pdm export --prod -o requirements.txt" },
  { file: "Pipfile.lock", tool: "Pipenv", command: "pipenv requirements --hash > requirements.txt" },
];

export function lockExportError(file: string): SargeError {
  const lock = LOCK_EXPORTS.find((entry) => entry.file === file)!;
  return new SargeError(
    `${lock.file} is ${lock.tool}'s own lock format, which pip cannot install from, and there is no requirements.txt or pylock.toml — export the lock and commit the result: ${lock.command}`,
  );
}

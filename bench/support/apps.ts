/** Archives of examples/hello: the tests' own helpers (test/support/apps.ts), so both deploy the same app. */
export { helloArchive, helloDir, helloVersion } from "../../test/support/apps.js";

/** The instance id in an examples/hello answer: "... (v2, web-k3x9qa)". */
export function instanceOf(body: string | null): string | null {
  return body ? (/\(([^,]+), ([A-Za-z0-9_-]+)\)\s*$/.exec(body)?.[2] ?? null) : null;
}

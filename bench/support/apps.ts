/** Archives of examples/hello: the tests' own helpers (test/support/apps.ts), so both deploy the same app. */
export { helloArchive, helloDir, helloVersion } from "../../test/support/apps.js";

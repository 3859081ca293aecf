/**
 * The environment python and pip run with: the caller's, minus every PIP_* and PYTHON* variable
 * (a PIP_FIND_LINKS set on the machine adds a package source), minus VIRTUAL_ENV, plus
 * PIP_CONFIG_FILE=/dev/null so no pip.conf (global, user or site) is read either.
 *
 * pip also gets no network, should a requirements check ever miss a package source: every proxy
 * variable names a closed privileged loopback port (no unprivileged user can listen there), so
 * pip's requests and git's curl reach nothing, and git may use none of its own transports.
 */
const NOWHERE = "http://127.0.0.1:9";
const PROXY_VARIABLES = ["http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"];
const PROXY_EXCEPTIONS = new Set(["no_proxy", "NO_PROXY"]);

export function childEnvironment(options: { keepPyenv?: boolean; pip?: boolean } = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (name.startsWith("PIP_") || name.startsWith("PYTHON") || name === "VIRTUAL_ENV" || name === "__PYVENV_LAUNCHER__") continue;
    if (!options.keepPyenv && name.startsWith("PYENV")) continue;
    if (options.pip && PROXY_EXCEPTIONS.has(name)) continue;
    env[name] = value;
  }
  if (options.pip) {
    env.PIP_CONFIG_FILE = "/dev/null";
    for (const name of PROXY_VARIABLES) env[name] = NOWHERE;
    env.GIT_ALLOW_PROTOCOL = "none";
  }
  return env;
}

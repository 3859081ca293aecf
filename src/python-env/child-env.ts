/**
 * The environment python and pip run with: the caller's, minus every PIP_* and PYTHON* variable
 * (FIELD-NOTES: this machine's PIP_FIND_LINKS adds a package source), minus VIRTUAL_ENV, plus
 * PIP_CONFIG_FILE=/dev/null so no pip.conf (global, user or site) is read either.
 */
export function childEnvironment(options: { keepPyenv?: boolean; pip?: boolean } = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (name.startsWith("PIP_") || name.startsWith("PYTHON") || name === "VIRTUAL_ENV" || name === "__PYVENV_LAUNCHER__") continue;
    if (!options.keepPyenv && name.startsWith("PYENV")) continue;
    env[name] = value;
  }
  if (options.pip) env.PIP_CONFIG_FILE = "/dev/null";
  return env;
}

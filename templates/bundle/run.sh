#!/bin/sh
# The bundle's launcher, written by `sarge bundle` (docs/bundles.md): `.sarge/run <process type>`.
# On first start it builds the Python environment offline from the bundle's own wheels
# (.sarge/wheels, no index, no pip configuration), then execs the Procfile command with PORT set
# ($PORT, else Nomad's $NOMAD_PORT_http). Later starts reuse the environment.
set -eu

usage() {
  echo "usage: .sarge/run <process type from the Procfile>" >&2
  exit 2
}
[ $# -eq 1 ] || usage
proc=$1
case $proc in '' | *[!A-Za-z0-9_-]*) usage ;; esac

app=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd -P)
cd "$app"
sarge=$app/.sarge
venv=$sarge/venv
python=${SARGE_PYTHON:-python3}

command=$(sed -n "s/^$proc:[[:space:]]*//p" Procfile 2>/dev/null | head -n 1)
if [ -z "$command" ]; then
  echo ".sarge/run: no process type \"$proc\" in $app/Procfile" >&2
  exit 2
fi

build() {
  if [ -f "$sarge/wheels.sha256" ] && command -v sha256sum >/dev/null 2>&1; then
    if ! (cd "$sarge/wheels" && sha256sum --quiet --strict -c ../wheels.sha256); then
      echo ".sarge/run: the bundle's wheels are not the ones it was made with (.sarge/wheels.sha256), refusing to install" >&2
      exit 1
    fi
  fi
  for name in $(env | sed -n 's/^\(PIP_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$name"; done
  PIP_CONFIG_FILE=/dev/null
  export PIP_CONFIG_FILE
  set -- install --isolated --no-index --find-links "$sarge/wheels" --disable-pip-version-check --no-input --progress-bar off -r "$sarge/install.txt"
  rm -rf "$venv"
  "$python" -I -m venv --without-pip "$venv"
  if "$python" -I -m pip --python "$venv/bin/python" --version >/dev/null 2>&1; then
    "$python" -I -m pip --python "$venv/bin/python" "$@"
  else
    # this python's pip is older than 22.3 (no --python) or absent: a venv with its own pip
    rm -rf "$venv"
    "$python" -I -m venv "$venv"
    "$venv/bin/python" -I -m pip "$@"
  fi
  touch "$venv/.sarge-complete"
}

if [ -f "$sarge/install.txt" ] && [ ! -e "$venv/.sarge-complete" ]; then
  # two tasks starting from one folder build once
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$sarge/venv.lock"
    flock 9
  fi
  if [ ! -e "$venv/.sarge-complete" ]; then
    echo ".sarge/run: building the Python environment from the bundle's wheels" >&2
    (build) >&2
  fi
  exec 9>&-
fi

if [ -z "${PORT:-}" ] && [ -n "${NOMAD_PORT_http:-}" ]; then PORT=$NOMAD_PORT_http; fi
if [ -n "${PORT:-}" ]; then export PORT; fi
if [ -d "$venv" ]; then
  PATH=$venv/bin:$PATH
  VIRTUAL_ENV=$venv
  export PATH VIRTUAL_ENV
fi
exec /bin/sh -c "$command"

#!/usr/bin/env bash
# Installs what sarge's demo and tests need on a fresh Debian machine: HAProxy,
# supervisord and a Python with venv (Debian packages), then the npm
# dependencies, then the build, and links sarge into /usr/local/bin. Safe to
# run again.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
[ -x /usr/sbin/haproxy ] || command -v haproxy >/dev/null || missing+=(haproxy)
command -v supervisord >/dev/null || missing+=(supervisor)
python3 -c 'import venv' 2>/dev/null || missing+=(python3 python3-venv python3-pip)
python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
command -v curl >/dev/null || missing+=(curl)
# for sarge push's end-to-end test (a private sshd on loopback) and examples/fabfile.py
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v fab >/dev/null || missing+=(fabric)
# the dashboard's browser tests (playwright-core drives the system chromium), the TLS test's certificate, the routing benchmark
command -v chromium >/dev/null || missing+=(chromium)
command -v openssl >/dev/null || missing+=(openssl)
command -v wrk >/dev/null || missing+=(wrk)
command -v git >/dev/null || missing+=(git)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing Debian packages: ${missing[*]}"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Not `npm ci`: npm 11.19 here writes lock files that its own `npm ci` then refuses
# ("Missing: @rollup/rollup-android-arm-eabi@ from lock file": optional packages of
# other platforms). `npm install` installs the locked versions all the same.
npm install --no-audit --no-fund
npm run build

# `sarge` on PATH for development: this checkout's bin/sarge (a server installs the packed tarball instead, see README.md)
link=/usr/local/bin/sarge
if [ "$(readlink "$link" 2>/dev/null)" != "$PWD/bin/sarge" ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || [ -w "$(dirname "$link")" ] || sudo="sudo"
  $sudo ln -sfn "$PWD/bin/sarge" "$link"
  echo "linked $link -> $PWD/bin/sarge"
fi

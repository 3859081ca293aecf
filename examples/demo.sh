#!/usr/bin/env bash
# The README demo: a home in a temp folder, the example app deployed from a tar
# on stdin, answered on its stable port through HAProxy, then deployed again
# with a change and answered by the new version. Stops everything it started.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
home=$work/home
supervisor_pid=

cleanup() {
  if [ -n "$supervisor_pid" ]; then kill "$supervisor_pid" 2>/dev/null && wait "$supervisor_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "sarge init $home"
"$root/bin/sarge" init "$home"

say "build the example's dependency into $home/dist (offline)"
python3 "$root/examples/greeting/make_wheel.py" "$home/dist"

say "start the supervisor"
"$home/bin/supervisord" >"$home/var/log/supervisord.out" 2>&1 &
supervisor_pid=$!
for _ in $(seq 50); do [ -S "$home/var/run/supervisor.sock" ] && break; sleep 0.1; done
sed -i "s/^env: {}/env: {MESSAGE: \"hello sarge!\"}/" "$home/etc/sarge.yaml"

say "deploy examples/hello from a tar on stdin"
cp -r "$root/examples/hello" "$work/app"
tar -C "$work/app" -c . | "$home/bin/sarge" deploy - web

address=$("$home/bin/sarge" status --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).find(p=>p.proc==="web").address))')
say "GET http://$address/"
curl -sS "http://$address/"

say "change the app and deploy again"
sed -i 's/VERSION = "v1"/VERSION = "v2"/' "$work/app/app.py"
tar -C "$work/app" -c . | "$home/bin/sarge" deploy - web

say "GET http://$address/ (same stable port, new version)"
curl -sS "http://$address/"

say "sarge list"
"$home/bin/sarge" list

say "sarge rollback web"
"$home/bin/sarge" rollback web
curl -sS "http://$address/"

say "sarge history"
"$home/bin/sarge" history

"""Deploy with sarge from Fabric (2.x or 3.x): what `sarge push` does, as fab tasks.

    fab -H deploy@app1.example.com deploy                      # HEAD, process type web
    fab -H deploy@app1.example.com deploy --procs web,worker
    fab -H deploy@app1.example.com deploy --dirty              # the working tree as it is
    fab -H deploy@app1.example.com rollback --proc web
    fab -H deploy@app1.example.com status
    fab -H deploy@app1.example.com logs --proc web --lines 50

Run it in the checkout (where the Procfile is), with this file as ./fabfile.py
or via `fab -r path/to/examples ...`. Without -H, the host and home come from
SARGE_TARGET (or TARGET, as the 2012 flow's .env had it), `[user@]host[:port]:/home`
as `sarge push` takes it, so with the target in .env this works:

    sarge local run fab deploy

The home is `--home /var/local/myapp` on any task, else the target's path, else
$SARGE_REMOTE_HOME, else /var/local/myapp.

`sarge push` streams `git archive HEAD` into `ssh host <home>/bin/sarge deploy -`;
here the archive is uploaded first (Fabric's put), then deployed from the file
and removed: the same archive, the same deploy, the same output and exit code.
Like `sarge push`, `deploy` refuses uncommitted changes unless --dirty, and with
--dirty deploys changed and untracked (not ignored) files without touching the
git index; no commit id is recorded for such a deploy.
"""

import os
import shlex
import shutil
import subprocess
import tempfile

from fabric import Connection, task
from invoke.exceptions import Exit

SARGE_HOME = os.environ.get("SARGE_REMOTE_HOME", "/var/local/myapp")


def _parse_target(spec):
    """`[user@]host[:port]:/home` -> (user, host, port, home), as `sarge push` reads it."""
    user, _, rest = spec.rpartition("@")
    host, sep, path = rest.partition(":")
    port = None
    if sep and path[:1].isdigit() and ":" in path:
        port_text, _, path = path.partition(":")
        port = int(port_text)
    if not host or not path:
        raise Exit(f"the target {spec!r} is not [user@]host[:port]:/path/to/home", code=2)
    return user or None, host, port, path


def _target(c, home):
    """The connection and home for a task: -H as given, else SARGE_TARGET or TARGET."""
    if isinstance(c, Connection):
        return c, home or SARGE_HOME
    spec = os.environ.get("SARGE_TARGET") or os.environ.get("TARGET")
    if not spec:
        raise Exit("no host: pass -H user@host, or put SARGE_TARGET=user@host:/path/to/home in .env and run `sarge local run fab deploy`", code=2)
    user, host, port, path = _parse_target(spec)
    return Connection(host, user=user, port=port, config=c.config), home or path


def _git(*args, env=None):
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True, env=env).stdout


def _sarge(home):
    return shlex.quote(home.rstrip("/") + "/bin/sarge")


def _treeish(dirty):
    """HEAD, or with dirty=True a tree object holding the working tree (built in a private index)."""
    # an untracked .env holds the target and is usually not committed: it is not a change (as in sarge push)
    changes = "".join(line + "\n" for line in _git("status", "--porcelain", "--", ".").splitlines() if line != "?? .env")
    if not changes:
        return "HEAD"
    if not dirty:
        raise Exit("uncommitted changes (commit them, or deploy the working tree with --dirty):\n" + changes, code=1)
    with tempfile.TemporaryDirectory(prefix="sarge-fab-") as tmp:
        index = os.path.join(tmp, "index")
        real_index = _git("rev-parse", "--git-path", "index").strip()
        env = dict(os.environ, GIT_INDEX_FILE=index)
        if os.path.exists(real_index):
            shutil.copyfile(real_index, index)
        else:
            _git("read-tree", "HEAD", env=env)
        _git("add", "--all", "--", ":/", env=env)
        return _git("write-tree", env=env).strip()


@task(help={"procs": "comma-separated process types (default: web)", "dirty": "deploy uncommitted changes too", "home": "the sarge home on the server"})
def deploy(c, procs="web", dirty=False, home=None):
    """git archive HEAD, then <home>/bin/sarge deploy <archive> <procs> on the host."""
    c, home = _target(c, home)
    names = [name for name in procs.split(",") if name]
    treeish = _treeish(dirty)
    with tempfile.TemporaryDirectory(prefix="sarge-fab-") as tmp:
        archive = os.path.join(tmp, "app.tar")
        _git("archive", "--format=tar", "-o", archive, treeish)
        remote = c.run("mktemp /tmp/sarge-deploy-XXXXXX", hide=True).stdout.strip()
        try:
            c.put(archive, remote)
            result = c.run(" ".join([_sarge(home), "deploy", shlex.quote(remote), *map(shlex.quote, names)]), warn=True, pty=False)
        finally:
            c.run("rm -f " + shlex.quote(remote), hide=True, warn=True)
    if result.exited != 0:
        raise Exit(code=result.exited)


@task(help={"proc": "process type (default: web)", "to": "the kept instance to go back to", "home": "the sarge home on the server"})
def rollback(c, proc="web", to=None, home=None):
    """sarge rollback <proc> [--to <instance>] on the host."""
    c, home = _target(c, home)
    c.run(" ".join([_sarge(home), "rollback", shlex.quote(proc)] + (["--to", shlex.quote(to)] if to else [])))


@task(help={"home": "the sarge home on the server"})
def status(c, home=None):
    """sarge status on the host."""
    c, home = _target(c, home)
    c.run(_sarge(home) + " status")


@task(help={"proc": "process type or instance (default: web)", "lines": "how many lines", "home": "the sarge home on the server"})
def logs(c, proc="web", lines=100, home=None):
    """The last lines of a process type's (or instance's) output."""
    c, home = _target(c, home)
    c.run(" ".join([_sarge(home), "logs", shlex.quote(proc), "-n", str(int(lines))]))

"""Deploy with sarge from Fabric (2.x or 3.x): what `sarge push` does, as fab tasks.

    fab -H deploy@app1.example.com deploy                      # HEAD, process type web
    fab -H deploy@app1.example.com deploy --procs web,worker
    fab -H deploy@app1.example.com deploy --dirty              # the working tree as it is
    fab -H deploy@app1.example.com rollback --proc web
    fab -H deploy@app1.example.com status
    fab -H deploy@app1.example.com logs --proc web --lines 50

Run it in the checkout (where the Procfile is), with this file as ./fabfile.py
or via `fab -r path/to/examples ...`. The sarge home on the server is SARGE_HOME
below, or `--home /var/local/myapp` on any task, or $SARGE_REMOTE_HOME.

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

from fabric import task
from invoke.exceptions import Exit

SARGE_HOME = os.environ.get("SARGE_REMOTE_HOME", "/var/local/myapp")


def _git(*args, env=None):
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True, env=env).stdout


def _sarge(home):
    return shlex.quote(home.rstrip("/") + "/bin/sarge")


def _treeish(dirty):
    """HEAD, or with dirty=True a tree object holding the working tree (built in a private index)."""
    changes = _git("status", "--porcelain", "--", ".")
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
def deploy(c, procs="web", dirty=False, home=SARGE_HOME):
    """git archive HEAD, then <home>/bin/sarge deploy <archive> <procs> on the host."""
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
def rollback(c, proc="web", to=None, home=SARGE_HOME):
    """sarge rollback <proc> [--to <instance>] on the host."""
    c.run(" ".join([_sarge(home), "rollback", shlex.quote(proc)] + (["--to", shlex.quote(to)] if to else [])))


@task(help={"home": "the sarge home on the server"})
def status(c, home=SARGE_HOME):
    """sarge status on the host."""
    c.run(_sarge(home) + " status")


@task(help={"proc": "process type or instance (default: web)", "lines": "how many lines", "home": "the sarge home on the server"})
def logs(c, proc="web", lines=100, home=SARGE_HOME):
    """The last lines of a process type's (or instance's) output."""
    c.run(" ".join([_sarge(home), "logs", shlex.quote(proc), "-n", str(int(lines))]))

"""Small stand-ins for how real apps stop, for the supervisor contract (test/support/supervisor-contract.ts).

    python3 stop_apps.py prefork   a gunicorn-like master with two forked workers
    python3 stop_apps.py celery    a Celery-like worker whose pool child runs a task
    python3 stop_apps.py plain     an app that stops on TERM (run it without exec to see the shell in between)

Each prints what it did, flushed, so the test reads it from the program's log.
"""
import os
import select
import signal
import sys
import time


def say(line):
    os.write(1, (line + "\n").encode())  # one write: lines of several processes never interleave


def describe(status):
    if os.WIFSIGNALED(status):
        return "signal %d" % os.WTERMSIG(status)
    return "exit %d" % os.WEXITSTATUS(status)


def prefork():
    """Like gunicorn's arbiter: TERM to the master makes it tell each worker to stop, then it reaps them.

    A worker that gets TERM before its master told it to stop dies of the signal, and the master
    logs what gunicorn logs then: "Worker (pid:N) was terminated due to signal 15".
    """
    workers = {}
    stopping = []
    signal.signal(signal.SIGTERM, lambda _n, _f: stopping.append(True))
    # "workers up" only once every worker has its TERM handler: a test may stop the master right after
    ready_r, ready_w = os.pipe()
    for _ in range(2):
        told_r, told_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(told_w)

            def worker_term(number, _frame):
                if select.select([told_r], [], [], 0)[0]:
                    say("worker %d: graceful exit" % os.getpid())
                    os._exit(0)
                signal.signal(number, signal.SIG_DFL)
                os.kill(os.getpid(), number)

            signal.signal(signal.SIGTERM, worker_term)
            os.write(ready_w, b"r")
            while True:
                time.sleep(0.05)
        os.close(told_r)
        workers[pid] = told_w
    for _ in workers:
        os.read(ready_r, 1)
    say("master: %d workers up" % len(workers))
    while not stopping:
        time.sleep(0.02)
    for pid, told in workers.items():
        try:
            os.write(told, b"stop")
            os.kill(pid, signal.SIGTERM)
        except (BrokenPipeError, ProcessLookupError):
            pass  # already dead of a TERM of its own
    for pid in workers:
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):
            say("Worker (pid:%d) was terminated due to signal %d" % (pid, os.WTERMSIG(status)))
    say("master: shutting down")


def celery():
    """Like a Celery worker's warm shutdown: TERM to the main process lets the pool child finish its task.

    The pool child keeps the default TERM action: one that gets TERM itself dies mid-task, and the
    main process reports what Celery reports then.
    """
    stopping = []
    # before the fork: the test stops it once the child's line is there
    signal.signal(signal.SIGTERM, lambda _n, _f: stopping.append(True))
    child = os.fork()
    if child == 0:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        say("pool: task started")
        while not os.path.exists("stop-task"):
            time.sleep(0.05)
        time.sleep(0.5)  # the rest of the task
        say("pool: task done")
        os._exit(0)
    while not stopping:
        time.sleep(0.02)
    say("main: warm shutdown, waiting for the task")
    open("stop-task", "w").close()
    _, status = os.waitpid(child, 0)
    if os.WIFSIGNALED(status):
        say("WorkerLostError: Worker exited prematurely: %s" % describe(status))
    os.unlink("stop-task")
    say("main: shut down")


def plain():
    signal.signal(signal.SIGTERM, lambda _n, _f: (say("plain: graceful exit"), os._exit(0)))
    say("plain: up")
    while True:
        time.sleep(0.05)


if __name__ == "__main__":
    {"prefork": prefork, "celery": celery, "plain": plain}[sys.argv[1]]()

"""Runs commands for bench/run.js and reports each one's wall time and CPU time (user + system).

Node cannot read a child's resource usage, and `/usr/bin/time` prints CPU time in 10 ms steps: this
helper starts each child with posix_spawn, waits with wait4() and reports its rusage in microseconds
(children the child waited for, e.g. an exec probe's command, count too). It is one long-lived process,
so its own start-up is paid once, and the bench's event loop stays free to accept the connections the
measured ticks make while a child runs.

Protocol: one JSON request per line on stdin
  {"argv": [...], "env": {...}, "stdout": PATH?, "stderr": PATH?, "timeout_ms": N}
one JSON answer per line on stdout
  {"wall_ms", "cpu_ms", "status" (exit code or null), "signal" (or null), "timed_out", "error"?}
Every child leads its own process group; on its timeout the whole group gets SIGKILL, and whatever the
group still holds when the child exits is killed too. Stops at end of input, and on SIGTERM after
killing the group of the child it is running.
"""
import json
import os
import select
import signal
import sys
import time


current = None


def stop(_signum, _frame):
    if current is not None:
        kill_group(current)
    os._exit(0)


def kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


def wait(pid, timeout_s):
    """(status, rusage, timed_out). Whatever the child's group still holds once it exits is killed."""
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        fd = None
    if fd is not None:
        try:
            exited = bool(select.select([fd], [], [], timeout_s)[0])
        finally:
            os.close(fd)
        # Exited: a zombie until wait4, so its pid still names the group. Overran: kill it all.
        kill_group(pid)
        _, status, usage = os.wait4(pid, 0)
        return status, usage, not exited
    # No pidfd (macOS): poll every half millisecond.
    deadline = time.monotonic() + timeout_s
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            kill_group(pid)
            return status, usage, False
        if time.monotonic() > deadline:
            kill_group(pid)
            _, status, usage = os.wait4(pid, 0)
            return status, usage, True
        time.sleep(0.0005)


def run(req):
    global current
    argv = req["argv"]
    opened = []

    def target(path, flags):
        fd = os.open(path or os.devnull, flags, 0o600)
        opened.append(fd)
        return fd

    stdin = target(None, os.O_RDONLY)
    stdout = target(req.get("stdout"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    stderr = target(req.get("stderr"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    actions = [
        (os.POSIX_SPAWN_DUP2, stdin, 0),
        (os.POSIX_SPAWN_DUP2, stdout, 1),
        (os.POSIX_SPAWN_DUP2, stderr, 2),
    ]
    started = time.monotonic_ns()
    try:
        pid = os.posix_spawnp(argv[0], argv, req["env"], file_actions=actions, setpgroup=0)
    except OSError as error:
        for fd in opened:
            os.close(fd)
        return {"error": f"{argv[0]}: {error.strerror}", "status": None, "signal": None}
    for fd in opened:
        os.close(fd)
    current = pid
    status, usage, timed_out = wait(pid, req.get("timeout_ms", 600_000) / 1000)
    current = None
    wall_ms = (time.monotonic_ns() - started) / 1e6
    return {
        "wall_ms": wall_ms,
        "cpu_ms": (usage.ru_utime + usage.ru_stime) * 1000,
        "status": os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "timed_out": timed_out,
    }


signal.signal(signal.SIGTERM, stop)
for line in sys.stdin:
    if not line.strip():
        continue
    try:
        answer = run(json.loads(line))
    except Exception as error:  # an answer for every request, or the bench waits for nothing
        answer = {"error": repr(error), "status": None, "signal": None}
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()

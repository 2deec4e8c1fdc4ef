"""Child processes that cannot outlive `make run`, even when it is killed with SIGKILL."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_libc = ctypes.CDLL(None, use_errno=True)


def die_with_parent(death_signal: int) -> Callable[[], None]:
    """A preexec_fn for Popen: the kernel sends `death_signal` to the child when this process dies.

    Resolved before fork, so that the child calls nothing but prctl. If this process died between the fork
    and the prctl, the child was already handed to another parent and stops at once.
    """
    parent = os.getpid()
    prctl = _libc.prctl

    def tie() -> None:
        prctl(PR_SET_PDEATHSIG, death_signal, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return tie


def start_child(command: list[str], *, death_signal: int = signal.SIGTERM, **popen) -> subprocess.Popen:
    """Popen `command` in a session of its own (Ctrl-C reaches it through us, in our order), tied to our life."""
    return subprocess.Popen(command, start_new_session=True, preexec_fn=die_with_parent(death_signal), **popen)


def stop_child(process: subprocess.Popen, *, grace: float) -> None:
    """SIGTERM to the child's process group, then SIGKILL after `grace` seconds."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


def stop_stale(pid_file: Path, *, marker: str, timeout: float = 10.0) -> bool:
    """Kill the process named in `pid_file` if its command line holds `marker` (one that a killed `make run`
    left behind), and wait until it is gone; whether there was one. A pid since reused by another program
    is left alone."""
    try:
        pid = int(pid_file.read_text())
        command_line = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except (FileNotFoundError, ValueError):
        return False
    if marker not in command_line.split("\0"):
        return False
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and is_running(pid):
        time.sleep(0.05)
    return True


def is_running(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie waiting for its parent to reap it is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def descendants(pid: int) -> list[int]:
    """The processes started by `pid`, by their children, and so on (from /proc: Linux)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):  # a process that ended meanwhile
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(stat.parent.name))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found

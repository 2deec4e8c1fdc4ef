"""What every section of bench/RESULTS.md shares: the verdict on a goal, the machine, a CPU cell."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), platform.processor())
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    memory_kb = next(int(line.split()[1]) for line in meminfo if "MemTotal" in line)
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory_kb / 1024 / 1024:.0f} GiB, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def cpu_cell(worker_and_s3_ms: tuple[float, float]) -> str:
    worker, s3 = worker_and_s3_ms
    return f"{worker:.0f} ms / {s3:.0f} ms"

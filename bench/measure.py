"""Measure one command as a whole process tree: wall time, CPU time and peak resident memory.

`npx cdk synth` of a Python app is five processes at least: npx and the CDK CLI (Node.js) spawn the app
(Python), which spawns the jsii kernel (Node.js: a relay process and the kernel proper). The resident set of
any single one of them (what ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` reports, the "largest process" figure)
understates what the machine must hold, so the tree's peak is the largest *sum* of the resident sets of every
live process of the tree, sampled every ``interval`` seconds from ``/proc`` (Linux). Pages the processes
share (the node binary of three Node.js processes) count once per process: an upper bound. CPU time is user + system of the whole tree from ``wait4``: every
process in it waits for its children, so their times roll up to the one we wait for.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Sample:
    """One run: wall seconds, CPU seconds (user + system of the tree), the tree's peak (summed RSS) in MiB, the
    largest single process's peak RSS in MiB, and the most processes alive at once."""

    wall_s: float
    cpu_s: float
    peak_mib: float
    max_single_mib: float
    processes: int


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                kids.extend(int(k) for k in f.read().split())
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return kids


def _rss_bytes(pid: int) -> int:
    """The process's resident set (0 once it is gone), from statm: cheap enough to sample often. (PSS from
    smaps_rollup would count shared pages once, but reading it walks every page table, up to 0.1 s per process
    on a loaded machine: sampling it would itself load the machine being measured.)"""
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * _PAGE
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0


def tree_memory(root: int) -> tuple[int, int]:
    """The summed RSS (bytes) of ``root`` and all its descendants, and how many processes that was."""
    total, count, todo = 0, 0, [root]
    while todo:
        pid = todo.pop()
        rss = _rss_bytes(pid)
        if rss:
            total += rss
            count += 1
        todo.extend(_children(pid))
    return total, count


def run(
    command: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    interval: float = 0.05,
    log: Path | None = None,
) -> Sample:
    """Run ``command`` to completion and measure it; raise ``RuntimeError`` (with its output) if it fails."""
    out = open(log, "wb") if log is not None else subprocess.DEVNULL
    start = time.perf_counter()
    proc = subprocess.Popen(list(command), cwd=cwd, env=dict(env), stdout=out, stderr=subprocess.STDOUT)
    peak = [0, 0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            rss, count = tree_memory(proc.pid)
            if rss > peak[0]:
                peak[0] = rss
            peak[1] = max(peak[1], count)
            done.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if log is not None:
        out.close()
    if proc.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:] if log is not None else ""
        raise RuntimeError(f"{' '.join(command)} exited {proc.returncode}\n{tail}")
    return Sample(
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_mib=peak[0] / 2**20,
        max_single_mib=usage.ru_maxrss / 1024,
        processes=peak[1],
    )

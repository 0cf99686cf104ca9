"""Where the time of one synthesis goes: imports, construction, synthesis; jsii round trips; Python and Node profiles.

Runs a bench app in this process (not through the CDK CLI) and reports:

- the phases: importing aws_cdk (which starts the jsii kernel and loads aws-cdk-lib's assembly), importing
  the rest of the app, building the construct tree, ``app.synth()``;
- jsii round trips: every request the Python side sends the Node.js kernel (create, invoke, get, set, static
  calls...), counted by kind and by the type and member asked for, with the time spent waiting for each
  kind, and the callbacks the kernel makes into Python (overridden methods, aspects, lazy values);
- with ``--cprofile FILE``, a cProfile of the whole run (top functions by cumulative time printed);
- with ``--node-prof DIR``, a V8 CPU profile of the jsii kernel (``node --cpu-prof``, started through JSII_NODE),
  summarized by package and by function (self time).

Usage: ``python bench/profile_synth.py reference`` (or ``floor``, ``scale:GPU_GROUPS:TEAMS``; ``NAME+concurrent``
for the app built as app.py builds it, on :func:`eks_ai_data.concurrent_validation.app`).
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import json
import os
import pstats
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]


class JsiiCounter:
    """Wraps the jsii process provider's ``send`` to count and time every request to the Node.js kernel."""

    def __init__(self) -> None:
        self.by_kind: collections.Counter[str] = collections.Counter()
        self.seconds: collections.Counter[str] = collections.Counter()
        self.by_member: collections.Counter[str] = collections.Counter()
        self.callbacks: collections.Counter[str] = collections.Counter()

    def install(self) -> None:
        from jsii import _kernel
        from jsii._kernel.providers import process

        original_send = process._NodeProcess.send
        counter = self

        def send(self: Any, request: Any, response_type: Any) -> Any:
            kind = type(request).__name__.removesuffix("Request").lstrip("_")
            counter.by_kind[kind] += 1
            counter.by_member[_member(request)] += 1
            start = time.perf_counter()
            try:
                return original_send(self, request, response_type)
            finally:
                counter.seconds[kind] += time.perf_counter() - start

        process._NodeProcess.send = send
        original_callback = _kernel._handle_callback

        def handle_callback(kernel: Any, callback: Any) -> Any:
            counter.callbacks[callback.cookie or "?"] += 1
            return original_callback(kernel, callback)

        _kernel._handle_callback = handle_callback

    def report(self, top: int) -> list[str]:
        total = sum(self.by_kind.values())
        lines = [
            f"jsii requests: {total} ({sum(self.seconds.values()):.2f} s waiting on the kernel, incl. callbacks)"
        ]
        for kind, n in self.by_kind.most_common():
            lines.append(f"  {kind:<14} {n:>7}  {self.seconds[kind]:>6.2f} s")
        lines.append(f"top {top} members asked for:")
        lines += [f"  {n:>7}  {member}" for member, n in self.by_member.most_common(top)]
        lines.append(f"callbacks into Python: {sum(self.callbacks.values())}")
        lines += [f"  {n:>7}  {name}" for name, n in self.callbacks.most_common(top)]
        return lines


_REF_CLASS = re.compile(r"^(.*)@\d+$")


def _member(request: Any) -> str:
    """``type.member`` of a request: the FQN (static calls, create) or the object's class (instance calls)."""
    inner = getattr(request, "complete", None)
    if inner is not None and not isinstance(inner, str):  # sync_complete wrapper
        return "complete"
    fqn = getattr(request, "fqn", None)
    if fqn is None:
        objref = getattr(request, "objref", None)
        ref = getattr(objref, "ref", "") if objref is not None else ""
        match = _REF_CLASS.match(ref)
        fqn = match.group(1) if match else type(request).__name__
    member = getattr(request, "method", None) or getattr(request, "property", None)
    if member is None:
        return f"{fqn} (new)" if type(request).__name__ == "CreateRequest" else fqn
    return f"{fqn}.{member}"


def summarize_cpuprofile(path: Path, top: int) -> list[str]:
    """Self time of a V8 ``.cpuprofile`` by package and by function."""
    profile = json.loads(path.read_text())
    nodes = {n["id"]: n for n in profile["nodes"]}
    self_us: collections.Counter[int] = collections.Counter()
    for node_id, delta in zip(profile["samples"], profile["timeDeltas"], strict=True):
        self_us[node_id] += delta
    by_package: collections.Counter[str] = collections.Counter()
    by_function: collections.Counter[str] = collections.Counter()
    for node_id, us in self_us.items():
        frame = nodes[node_id]["callFrame"]
        url = frame.get("url", "")
        by_package[_package(url, frame.get("functionName", ""))] += us
        name = frame.get("functionName") or "(anonymous)"
        by_function[f"{name} {_short(url)}:{frame.get('lineNumber', 0) + 1}"] += us
    total = sum(self_us.values())
    lines = [
        f"jsii kernel CPU profile: {total / 1e6:.2f} s sampled ({path.name})",
        "  by package (self time):",
    ]
    lines += [f"  {us / 1e6:>7.2f} s  {pkg}" for pkg, us in by_package.most_common(top)]
    lines.append("  by function (self time):")
    lines += [f"  {us / 1e6:>7.2f} s  {fn}" for fn, us in by_function.most_common(top)]
    return lines


def _is_jsii_kernel(path: Path) -> bool:
    """Whether a ``.cpuprofile`` is the jsii kernel's: its process ran jsii's ``lib/program.js``."""
    nodes = json.loads(path.read_text())["nodes"]
    return any(n["callFrame"].get("url", "").endswith("/lib/program.js") for n in nodes)


def _package(url: str, function: str) -> str:
    if not url:
        return f"({function or 'native'})"
    match = re.search(r"node_modules/((?:@[^/]+/)?[^/]+)", url)
    if match:
        return match.group(1)
    if "jsii-runtime" in url or "/jsii/" in url:
        return "@jsii/runtime"
    return url.rsplit("/", 1)[-1]


def _short(url: str) -> str:
    match = re.search(r"node_modules/(.*)$", url)
    return match.group(1) if match else url.rsplit("/", 1)[-1]


def _timed(label: str, phases: dict[str, float], fn: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    try:
        return fn()
    finally:
        phases[label] = time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("app", help="reference | floor | scale:GPU_GROUPS:TEAMS, optionally +concurrent")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--cprofile", type=Path, help="write a cProfile here and print its top functions")
    parser.add_argument(
        "--node-prof", type=Path, help="write the jsii kernel's V8 CPU profile into this folder"
    )
    args = parser.parse_args(argv)

    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    if args.node_prof:
        # Node refuses --cpu-prof in NODE_OPTIONS; jsii starts the kernel with $JSII_NODE (jsii/_kernel/providers/
        # process.py), so point that at a wrapper that adds the flags.
        args.node_prof.mkdir(parents=True, exist_ok=True)
        wrapper = args.node_prof / "node-cpu-prof"
        node = shutil.which("node") or "node"
        wrapper.write_text(
            f'#!/bin/sh\nexec {node} --cpu-prof --cpu-prof-dir="{args.node_prof.resolve()}" "$@"\n'
        )
        wrapper.chmod(0o755)
        os.environ["JSII_NODE"] = str(wrapper.resolve())
    started = time.time()
    profiler = cProfile.Profile() if args.cprofile else None
    if profiler:
        profiler.enable()
    counter = JsiiCounter()
    phases: dict[str, float] = {}
    start = time.perf_counter()
    _timed("import jsii", phases, lambda: __import__("jsii"))
    counter.install()
    _timed("import aws_cdk (kernel start, aws-cdk-lib load)", phases, lambda: __import__("aws_cdk"))
    import bench_apps

    outdir = tempfile.mkdtemp(prefix="profile-synth-")
    # NAME+concurrent: as app.py builds the reference app, the validation engine started first
    app, name = _timed("create the app", phases, lambda: bench_apps.new_app(args.app, outdir=outdir))
    build = _timed("import the app's modules", phases, lambda: bench_apps.builder(name))
    _timed("construct", phases, lambda: build(app))
    _timed("app.synth()", phases, app.synth)
    total = time.perf_counter() - start
    if profiler:
        profiler.disable()

    print(
        f"{args.app}: {total:.2f} s in process (CDK_VALIDATION={os.environ.get('CDK_VALIDATION', 'unset')})"
    )
    for label, seconds in phases.items():
        print(f"  {label:<50} {seconds:>6.2f} s")
    print("\n".join(counter.report(args.top)))
    if profiler and args.cprofile:
        profiler.dump_stats(str(args.cprofile))
        print(f"cProfile written to {args.cprofile}; top {args.top} by cumulative time:")
        pstats.Stats(str(args.cprofile)).sort_stats("cumulative").print_stats(args.top)
    if args.node_prof:
        # The kernel writes its profile when it exits: stop it now rather than at interpreter exit.
        from jsii import _kernel
        from jsii._kernel.providers.process import ProcessProvider

        provider = _kernel.Kernel().provider
        if isinstance(provider, ProcessProvider):
            provider._process.stop()  # started by now (a memoized property: not in the instance's __dict__)
        # JSII_NODE starts three Node.js processes here, each writing a profile: jsii's runtime (which only relays
        # the messages), the kernel it starts (lib/program.js, where the app's constructs run) and, for
        # NAME+concurrent, the validation engine's worker. Report the kernel's, of this run.
        for prof in sorted(args.node_prof.glob("*.cpuprofile"), key=lambda p: p.stat().st_mtime):
            if prof.stat().st_mtime >= started and _is_jsii_kernel(prof):
                print("\n".join(summarize_cpuprofile(prof, args.top)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

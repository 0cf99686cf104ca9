"""`make bench`: steady-state `cdk synth` of the reference app against a bare baseline, peak memory, test wall time.

Each synth is measured as the median of RUNS runs after one warm-up run, through the pinned CDK CLI
(`npx cdk synth`), as a user runs it. Peak memory is the largest resident set of any single process of the
run (the Python app or the jsii Node.js kernel), from getrusage(RUSAGE_CHILDREN) in a fresh wrapper process.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
WRAPPER = (
    "import resource, subprocess, sys, time\n"
    "start = time.perf_counter()\n"
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
    "elapsed = time.perf_counter() - start\n"
    "print(elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)\n"
)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    env.setdefault("CDK_DISABLE_CLI_TELEMETRY", "true")
    return env


def measure(command: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one run of ``command``."""
    out = subprocess.run(
        [sys.executable, "-c", WRAPPER, *command],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed, rss, code = out.stdout.split()
    if int(code) != 0:
        raise SystemExit(f"benchmark command failed ({code}): {' '.join(command)}")
    return float(elapsed), int(rss)


def synth_command(app: str, outdir: str) -> list[str]:
    return ["npx", "cdk", "synth", "--quiet", "--app", app, "--output", outdir]


def bench_synth(name: str, app: str, runs: int) -> dict[str, float]:
    outdir = f".bench/{name}"
    measure(synth_command(app, outdir))  # warm-up: caches, .pyc files, node module loading
    samples = [measure(synth_command(app, outdir)) for _ in range(runs)]
    times = [t for t, _ in samples]
    return {
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "peak_rss_mib": max(rss for _, rss in samples) / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-tests", action="store_true", help="do not time the test suite")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)

    python = str(VENV_BIN / "python")
    results = {
        "reference app": bench_synth("reference", f"{python} app.py", args.runs),
        "baseline (1 stack, 1 bucket)": bench_synth(
            "baseline", f"{python} scripts/bench_baseline_app.py", args.runs
        ),
    }
    ratio = results["reference app"]["median_s"] / results["baseline (1 stack, 1 bucket)"]["median_s"]
    tests = None
    if not args.skip_tests:
        start = time.perf_counter()
        subprocess.run(
            [python, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
            cwd=ROOT,
            env=_env(),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        tests = time.perf_counter() - start

    print(f"cdk synth, median of {args.runs} runs after a warm-up ({os.cpu_count()} cores)")
    print(f"{'what':<30} {'median s':>9} {'min s':>7} {'max s':>7} {'peak RSS MiB':>13}")
    for name, r in results.items():
        print(
            f"{name:<30} {r['median_s']:>9.2f} {r['min_s']:>7.2f} {r['max_s']:>7.2f} {r['peak_rss_mib']:>13.0f}"
        )
    print(f"{'reference / baseline':<30} {ratio:>9.2f}x  (target: within 2.00x)")
    if tests is not None:
        print(f"{'test suite wall time':<30} {tests:>9.1f} s (target: under 120 s)")
    if args.json:
        args.json.write_text(json.dumps({"synth": results, "ratio": ratio, "tests_s": tests}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

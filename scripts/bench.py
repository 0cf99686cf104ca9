"""`make bench`: `cdk synth` of the reference app against a comparable cdk-eks-blueprints app and the jsii floor,
with and without aws-cdk-lib's built-in validation; how synthesis grows with the platform; the test suite's time.

Every synth runs as a user runs it: ``npx cdk synth --quiet`` through the pinned CDK CLI, whole processes,
in the app's own folder. Each configuration runs once to warm up (caches, .pyc files), then ``--pairs`` times,
interleaved (A B C, C B A, A B C, ...) so that a change in the machine's load falls on every configuration
alike; the table gives medians. Wall and CPU time (user + system of the whole process tree) and peak memory
(the largest sum of the resident sets of all processes of the tree: CLI, Python app, jsii kernel) are measured
by bench/measure.py. The test suite is timed as ``make test`` runs it.

The Blueprints app (bench/blueprints) is installed on demand by the Makefile (``npm ci``) and uses the same
aws-cdk-lib and CDK CLI versions as this project, so the comparison is between the two apps' code and the
jsii bridge, not between library versions.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from measure import Sample, run  # noqa: E402

VENV_BIN = ROOT / ".venv" / "bin"
OUT = ROOT / ".bench"
BLUEPRINTS = ROOT / "bench" / "blueprints"
GPU_ROWS = (1, 4, 16)
REFERENCE = "reference app (4 stacks)"
REFERENCE_KERNEL = "reference app, validation in the jsii kernel"
REFERENCE_UNCACHED = "reference app, no validation results cache"
BLUEPRINTS_APP = "Blueprints app (1 stack)"
FLOOR = "one-bucket floor (Python)"
FLOOR_CONCURRENT = "one-bucket floor, concurrent validation"
TEAM_ROWS = (10, 100, 500)


@dataclass
class Config:
    """One command to measure: a name, the folder it runs in, the app (None: the folder's cdk.json) and env."""

    name: str
    cwd: Path
    app: str | None = None
    validation: bool = True
    extra_env: dict[str, str] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.name}{'' if self.validation else ', CDK_VALIDATION=false'}"

    def command(self) -> list[str]:
        slug = re.sub(r"[^A-Za-z0-9]+", "-", self.label).strip("-")
        cmd = ["npx", "--no-install", "cdk", "synth", "--quiet", "--output", str(OUT / slug)]
        return [*cmd, "--app", self.app] if self.app else cmd

    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("CDK_VALIDATION", "NODE_OPTIONS", "CDK_CONTEXT_JSON", "EKS_AI_DATA_VALIDATION_CACHE")
        }
        env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
        env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
        env["CDK_DISABLE_CLI_TELEMETRY"] = "true"
        if not self.validation:
            env["CDK_VALIDATION"] = "false"
        return {**env, **self.extra_env}

    def measure(self) -> Sample:
        slug = re.sub(r"[^A-Za-z0-9]+", "-", self.label).strip("-")
        OUT.mkdir(exist_ok=True)
        return run(self.command(), cwd=self.cwd, env=self.env(), log=OUT / f"{slug}.log")

    def median(self, attr: str) -> float:
        return statistics.median(getattr(s, attr) for s in self.samples)


def interleaved(configs: list[Config], rounds: int) -> None:
    """One warm-up run each, then ``rounds`` rounds, alternating the order of the configurations."""
    for config in configs:
        config.measure()
    for r in range(rounds):
        for config in configs if r % 2 == 0 else reversed(configs):
            config.samples.append(config.measure())
            print(
                f"  [{r + 1}/{rounds}] {config.label:<48} {config.samples[-1].wall_s:6.2f} s",
                file=sys.stderr,
                flush=True,
            )


def resources(config: Config) -> int:
    """Resources in every template the configuration wrote (nested stacks included)."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", config.label).strip("-")
    return sum(
        len(json.loads(p.read_text()).get("Resources", {})) for p in (OUT / slug).glob("*.template.json")
    )


def scaling(rows: list[tuple[str, int, Config]]) -> list[str]:
    """Time and memory per added unit between successive rows, and whether the cost per unit stays the same.

    With cost = a + b*n the CPU per added unit is the same on every step (ratio 1); with cost = c*n^2 the last
    step's per-unit cost over the first step's is (n3 + n2) / (n2 + n1): 4 for 1, 4, 16 and 5.5 for 10, 100, 500.
    A step whose CPU difference is within the runs' spread (or 0.5 s with one run) cannot tell.
    """
    lines = []
    for i in range(1, len(rows)):
        (_, a, ca), (_, b, cb) = rows[i - 1], rows[i]
        dt = (cb.median("wall_s") - ca.median("wall_s")) / (b - a)
        dc = (cb.median("cpu_s") - ca.median("cpu_s")) / (b - a)
        dm = (cb.median("peak_mib") - ca.median("peak_mib")) / (b - a)
        lines.append(
            f"    {a:>3} -> {b:<3} per added unit: {dt * 1000:7.1f} ms wall, {dc * 1000:7.1f} ms CPU, {dm:6.2f} MiB"
        )
    (_, n1, c1), (_, n2, c2), (_, n3, c3) = rows[0], rows[1], rows[2]
    whole = (c3.median("cpu_s") - c1.median("cpu_s")) / (n3 - n1)
    lines.append(f"    {n1} -> {n3}: {whole * 1000:.1f} ms CPU per added unit over the whole range")
    first_delta = c2.median("cpu_s") - c1.median("cpu_s")
    spread = max(max(s.cpu_s for s in c.samples) - min(s.cpu_s for s in c.samples) for c in (c1, c2))
    if first_delta <= max(spread, 0.5):
        lines.append(
            f"    linearity: the first step ({first_delta:+.2f} s CPU) is not above the noise ({max(spread, 0.5):.2f} s);"
            f" quadratic growth would make the last step {(n3 + n2) / (n2 + n1):.1f}x the first per unit"
        )
        return lines
    ratio = ((c3.median("cpu_s") - c2.median("cpu_s")) / (n3 - n2)) / (first_delta / (n2 - n1))
    verdict = "linear" if ratio < 1.5 else "grows faster than linear"
    lines.append(
        f"    linearity: CPU per unit, last step / first step = {ratio:.2f} ({verdict}; linear 1.00,"
        f" quadratic {(n3 + n2) / (n2 + n1):.1f})"
    )
    return lines


def time_tests() -> tuple[float, list[str]]:
    """Wall time of the test suite as ``make test`` runs it, and its slowest tests."""
    env = {k: v for k, v in os.environ.items() if k not in ("CDK_VALIDATION", "NODE_OPTIONS")}
    start = time.perf_counter()
    out = subprocess.run(
        [str(VENV_BIN / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--durations=10"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(f"the test suite failed:\n{out.stdout[-4000:]}")
    slow = re.findall(r"^\s*(\d+\.\d+)s (call|setup|teardown)\s+(\S+)", out.stdout, re.MULTILINE)
    summary = [line for line in out.stdout.splitlines() if re.search(r"\d+ passed", line)]
    return wall, [f"    {float(s):6.2f} s {phase:<8} {test}" for s, phase, test in slow] + [
        f"    {s}" for s in summary[-1:]
    ]


def row(label: str, config: Config, n_resources: int) -> str:
    wall, cpu = config.median("wall_s"), config.median("cpu_s")
    mem, single = config.median("peak_mib"), config.median("max_single_mib")
    return f"  {label:<44} {n_resources:>5} {wall:7.2f} {cpu:7.2f} {mem:8.0f} {single:8.0f}"


def ratio_row(label: str, a: Config, b: Config) -> str:
    ratios = [a.median(m) / b.median(m) for m in ("wall_s", "cpu_s", "peak_mib")]
    return f"    {label:<42} {'':>5} " + " ".join(f"{r:6.2f}x" for r in ratios)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=int, default=5, help="measured rounds per configuration (default 5)")
    parser.add_argument(
        "--scale-runs", type=int, default=3, help="measured rounds per scaling row (default 3)"
    )
    parser.add_argument("--skip-scaling", action="store_true")
    parser.add_argument("--skip-main", action="store_true", help="only the scaling rows (and the tests)")
    parser.add_argument("--skip-tests", action="store_true", help="do not time the test suite")
    parser.add_argument("--json", type=Path, help="also write every sample as JSON here")
    args = parser.parse_args(argv)

    python = str(VENV_BIN / "python")
    floor_app = f"{python} bench/bench_apps.py floor"
    # with the built-in validation (the reference app runs it concurrently, its results cached per template as a
    # user's repeated synths find them; beside it the same app validating every template again, the same app with
    # the validation in the jsii kernel, on a plain cdk.App, and the floor with it concurrent), then without it
    main_configs = [
        Config(REFERENCE, ROOT),
        Config(REFERENCE_UNCACHED, ROOT, extra_env={"EKS_AI_DATA_VALIDATION_CACHE": "off"}),
        Config(REFERENCE_KERNEL, ROOT, f"{python} bench/bench_apps.py reference"),
        Config(BLUEPRINTS_APP, BLUEPRINTS),
        Config(FLOOR, ROOT, floor_app),
        Config(FLOOR_CONCURRENT, ROOT, f"{python} bench/bench_apps.py floor+concurrent"),
        Config(REFERENCE, ROOT, validation=False),
        Config(BLUEPRINTS_APP, BLUEPRINTS, validation=False),
        Config(FLOOR, ROOT, floor_app, validation=False),
    ]
    if args.skip_main:
        main_configs = []
    else:
        print(f"synth: {len(main_configs)} configurations x {args.pairs} interleaved rounds", file=sys.stderr)
        interleaved(main_configs, args.pairs)

    scale_gpu: list[tuple[str, int, Config]] = []
    scale_teams: list[tuple[str, int, Config]] = []
    if not args.skip_scaling:
        for n in GPU_ROWS:
            scale_gpu.append(
                (
                    "GPU node groups",
                    n,
                    Config(
                        f"scale: {n} GPU node groups",
                        ROOT,
                        f"{python} bench/bench_apps.py scale:{n}:0",
                        validation=False,
                    ),
                )
            )
        for n in TEAM_ROWS:
            scale_teams.append(
                (
                    "teams",
                    n,
                    Config(
                        f"scale: {n} teams",
                        ROOT,
                        f"{python} bench/bench_apps.py scale:1:{n}",
                        validation=False,
                    ),
                )
            )
        configs = [c for _, _, c in scale_gpu + scale_teams]
        print(f"scaling: {len(configs)} configurations x {args.scale_runs} rounds", file=sys.stderr)
        interleaved(configs, args.scale_runs)

    tests = None if args.skip_tests else time_tests()

    cores = os.cpu_count()
    print(
        f"\nmake bench: npx cdk synth --quiet, whole process trees, "
        f"{f'medians of {args.pairs} interleaved rounds' if main_configs else 'scaling rows only'}, {cores} cores"
    )
    head = f"  {'what':<44} {'res':>5} {'wall s':>7} {'CPU s':>7} {'tree MiB':>8} {'proc MiB':>8}"
    print(head)
    print(
        "  (res: resources in all templates; tree MiB: peak of the summed RSS of every process; proc MiB: peak RSS"
        " of the largest single process; ratio rows: wall, CPU, tree memory)"
    )
    by_label = {c.label: c for c in main_configs}
    for validation in (True, False) if main_configs else ():
        suffix = "" if validation else ", CDK_VALIDATION=false"
        ref = by_label[f"{REFERENCE}{suffix}"]
        bp = by_label[f"{BLUEPRINTS_APP}{suffix}"]
        floor = by_label[f"{FLOOR}{suffix}"]
        if validation:
            print("  built-in validation on (default; the reference app runs it concurrently, see README):")
        else:
            print("  built-in validation off (CDK_VALIDATION=false):")
        print(row(REFERENCE, ref, resources(ref)))
        if validation:
            uncached = by_label[REFERENCE_UNCACHED]
            print(row(REFERENCE_UNCACHED, uncached, resources(uncached)))
            kernel = by_label[REFERENCE_KERNEL]
            print(row(REFERENCE_KERNEL, kernel, resources(kernel)))
        print(row("Blueprints app (1 stack + 2 nested)", bp, resources(bp)))
        print(row("one-bucket floor (Python, jsii)", floor, resources(floor)))
        if validation:
            concurrent = by_label[FLOOR_CONCURRENT]
            print(row(FLOOR_CONCURRENT, concurrent, resources(concurrent)))
        print(ratio_row("reference / Blueprints", ref, bp))
        if validation:
            print(ratio_row("reference, no results cache / Blueprints", uncached, bp))
            print(ratio_row("reference, validation in the kernel / Blueprints", kernel, bp))
            print(ratio_row("reference / reference, validation in the kernel", ref, kernel))
        print(ratio_row("reference / floor", ref, floor))
        print(ratio_row("Blueprints / floor", bp, floor))
    if main_configs:
        on, kernel, off = (
            by_label[REFERENCE],
            by_label[REFERENCE_KERNEL],
            by_label[f"{REFERENCE}, CDK_VALIDATION=false"],
        )
        uncached = by_label[REFERENCE_UNCACHED]
        for label, config in (
            ("in the jsii kernel", kernel),
            ("concurrently, every template", uncached),
            ("concurrently, results cached", on),
        ):
            print(
                f"  validation {label} costs the reference app {config.median('wall_s') - off.median('wall_s'):.2f} s"
                f" wall, {config.median('cpu_s') - off.median('cpu_s'):.2f} s CPU,"
                f" {config.median('peak_mib') - off.median('peak_mib'):.0f} MiB (tree)"
            )
    if scale_gpu:
        print(
            f"\n  scaling (CDK_VALIDATION=false: the growth of our constructs, not of aws-cdk-lib's validation;"
            f" medians of {args.scale_runs} rounds):"
        )
        for title, rows in (
            ("GPU node groups (0 teams)", scale_gpu),
            ("teams (1 GPU node group)", scale_teams),
        ):
            print(f"  {title}:")
            for _, _, config in rows:
                print(row(f"  {config.name.removeprefix('scale: ')}", config, resources(config)))
            print("\n".join(scaling(rows)))
    if tests is not None:
        wall, slow = tests
        print(f"\n  test suite (make test): {wall:.1f} s wall; slowest:")
        print("\n".join(slow))
    if args.json:
        data = {
            c.label: [asdict(s) for s in c.samples]
            for c in main_configs + [c for _, _, c in scale_gpu + scale_teams]
        }
        data["tests_s"] = tests[0] if tests else None
        args.json.write_text(json.dumps(data, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

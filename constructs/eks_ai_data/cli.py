"""The ``eks-ai-data`` command line: preflight, verify, guard and cost.

Exit codes: 0 every check passed, 1 a check failed (the failures are named on stderr),
2 the command could not run (bad arguments, no credentials or region, unknown stack,
access denied, throttled after retries; for ``guard``: a missing or malformed cloud assembly,
or cfn-lint not installed). Every command takes ``--json``; errors always go to stderr.
``guard`` needs the ``guard`` extra (``pip install 'eks-ai-data[guard]'``, which brings cfn-lint).

This module imports only the standard library at import time: boto3 and the operations
code load inside the subcommand that needs them, and nothing here imports aws_cdk, so
``eks-ai-data --help`` starts fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any, TextIO

EXIT_OK = 0
EXIT_CHECKS_FAILED = 1
EXIT_ERROR = 2

PROG = "eks-ai-data"
GUARD_EXTRA_HINT = "pip install 'eks-ai-data[guard]'"

_GUARD_EPILOG = """\
Exit codes: 0 no stateful resource would lose data (warnings may be printed), 1 a finding fails
(replaced, may-replace, update-fails, deleted, renamed, moved, and orphaned unless
--allow-orphaned), 2 the comparison could not run (a missing directory, no manifest.json,
malformed JSON, an unknown artifact layout, cfn-lint not installed); errors go to stderr.

--json prints one document: {"schema": "eks-ai-data.guard/1", "ok", "old", "new",
"summary": {"failures", "warnings", "templates", "guarded_resources"}, "findings": [{"severity",
"kind", "effect", "stack", "logical_id", "resource_type", "property", "old", "new", "moved_to",
"detail", "message"}], "notes", "service_spec"}.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Operations tooling for eks-ai-data platforms: check an account before "
        "`cdk deploy`, verify a deployed stack, guard against resource replacement, and estimate "
        "the monthly cost of a synthesized assembly.",
        epilog="Exit codes: 0 all checks passed, 1 a check failed, 2 the command could not run "
        "(errors on stderr). Each command's --help gives its own.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    preflight = commands.add_parser(
        "preflight",
        help="can the planned GPU node groups launch in a region? (catalog, offerings, capacity blocks, "
        "vCPU quotas, EKS, FSx)",
        description="Check, before deploying, that the planned instance types are offered in the "
        "region's zones and fit the account's vCPU quotas, that the instance catalog agrees with the "
        "region's DescribeInstanceTypes, that planned capacity blocks are ready for the plan, that EKS "
        "offers the Kubernetes version, and that FSx for Lustre is reachable.",
    )
    _aws_options(preflight)
    preflight.add_argument(
        "--instance-types",
        required=True,
        metavar="TYPES",
        help="comma-separated instance types, each optionally with its node count: p5.48xlarge:2,g6e.12xlarge",
    )
    preflight.add_argument(
        "--nodes", type=_positive_int, default=1, metavar="N", help="nodes per instance type (default: 1)"
    )
    preflight.add_argument(
        "--capacity-type",
        choices=["on-demand", "spot"],
        default="on-demand",
        help="which vCPU quotas apply (default: on-demand)",
    )
    preflight.add_argument(
        "--kubernetes-version",
        metavar="X.Y",
        help="EKS Kubernetes version to check (default: report EKS's default)",
    )
    preflight.add_argument(
        "--availability-zones",
        metavar="ZONES",
        help="comma-separated zones the node groups' subnets are in (default: every zone of the region)",
    )
    preflight.add_argument(
        "--capacity-reservation",
        action="append",
        metavar="ID:TYPE[:AZ]",
        help="a Capacity Block for ML the plan uses: its reservation id, the planned instance type it is for "
        "and optionally the node group's zone, e.g. cr-0123456789abcdef0:p5.48xlarge:us-east-2b; checks its "
        "state, dates, type, zone and size (repeatable)",
    )
    preflight.set_defaults(handler=_preflight)

    verify = commands.add_parser(
        "verify",
        help="is a deployed stack's platform ready? (EKS, add-ons, Lustre, EFS, KMS, Backup)",
        description="Read a deployed stack from CloudFormation and check that its cluster, node groups, "
        "add-ons, file systems, data repository associations, mount targets, keys and backup plans are ready.",
    )
    _aws_options(verify)
    verify.add_argument("--stack", required=True, metavar="NAME", help="CloudFormation stack name or id")
    verify.set_defaults(handler=_verify)

    guard = commands.add_parser(
        "guard",
        help="compare two cdk.out directories and fail on replacement of stateful resources",
        description="Compare two synthesized cloud assemblies (stacks, Stages, nested stacks) and report every "
        "stateful resource that deploying the new one would replace, delete, orphan, rename or move.",
        epilog=_GUARD_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    guard.add_argument("old", metavar="OLD_CDK_OUT", help="cdk.out of the deployed version")
    guard.add_argument("new", metavar="NEW_CDK_OUT", help="cdk.out of the version to deploy")
    guard.add_argument(
        "--allow-orphaned",
        action="store_true",
        help="warn instead of failing when a retained stateful resource leaves the stack (its data stays, "
        "unmanaged); replacements and deletions still fail",
    )
    guard.add_argument(
        "--allow-refactor",
        action="store_true",
        help="warn instead of failing on renamed or moved resources that you will move with a CloudFormation "
        "stack refactoring (cdk refactor) or a resource import, which keep the physical resource",
    )
    guard.add_argument("--json", action="store_true", help="print a JSON document instead of text")
    guard.set_defaults(handler=_guard)
    _cost_parser(commands)
    return parser


def _cost_parser(commands: Any) -> None:
    from eks_ai_data.ops.cost_model import ASSUMPTIONS

    cost = commands.add_parser(
        "cost",
        help="itemized monthly estimate of a synthesized cdk.out, per stack and resource",
        description="Price every resource of a synthesized cloud assembly for a Region with the price table "
        "shipped in the package (its date and source are printed), at the node groups' desired and maximum "
        "sizes. Usage the templates cannot say is assumed: each assumption is a flag below with its default. "
        "Items that cannot be priced are listed and counted, never taken as $0.",
        epilog="Exit codes: 0 estimate printed, 1 unpriced items with --fail-on-unpriced, 2 could not run "
        "(unreadable assembly or price table, Region without prices). Refresh the table with "
        "scripts/refresh_prices.py (AWS Price List API).",
    )
    cost.add_argument("assembly", metavar="CDK_OUT", help="directory of a synthesized cloud assembly")
    cost.add_argument(
        "--region",
        metavar="R",
        help="price every stack for this Region (default: each stack's own Region, us-east-1 when "
        "environment-agnostic)",
    )
    cost.add_argument("--json", action="store_true", help="print the estimate and its assumptions as JSON")
    for assumption in ASSUMPTIONS:
        cost.add_argument(
            "--" + assumption.name.replace("_", "-"),
            dest=assumption.name,
            type=_non_negative_float,
            default=assumption.default,
            metavar=assumption.unit.split("/")[0].upper().replace(" ", "-"),
            help=f"{assumption.help} (default: {assumption.default:g} {assumption.unit})",
        )
    cost.add_argument(
        "--spot-range",
        metavar="LOW-HIGH",
        default="0.3-0.7",
        help="Spot price as a share of on-demand, a range (default: 0.3-0.7; live prices: "
        "aws ec2 describe-spot-price-history)",
    )
    cost.add_argument(
        "--stored",
        action="append",
        default=[],
        metavar="LOGICAL_ID=GIB",
        help="stored GiB of one bucket, file system or backup plan, replacing the assumption (repeatable)",
    )
    cost.add_argument(
        "--price",
        action="append",
        default=[],
        metavar="KEY=USD",
        help="override one price of the table, e.g. ec2-capacity-block:p5.48xlarge=31.46 (repeatable)",
    )
    cost.add_argument("--prices", metavar="FILE", help="price table to use (default: the one in the package)")
    cost.add_argument(
        "--date",
        type=_date,
        metavar="YYYY-MM-DD",
        help="day that decides EKS standard or extended support (default: today, UTC)",
    )
    cost.add_argument("--fail-on-unpriced", action="store_true", help="exit 1 when an item cannot be priced")
    cost.set_defaults(handler=_cost)


def _aws_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--region", metavar="R", help="AWS region (default: AWS_REGION or the profile's)")
    parser.add_argument("--profile", metavar="P", help="AWS named profile (default: the default chain)")
    parser.add_argument("--json", action="store_true", help="print a JSON report instead of a table")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text!r}")
    return value


def _date(text: str) -> Any:
    import datetime

    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a date YYYY-MM-DD, got {text!r}") from None


def main(argv: list[str] | None = None, *, session_factory: Callable[..., Any] | None = None) -> int:
    """Entry point of the ``eks-ai-data`` console script; returns the exit code.

    ``session_factory(region=..., profile=...)`` returns the boto3 session to use
    (default: :func:`eks_ai_data.ops.aws.new_session`); tests pass their own.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error (argparse already printed it)
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    args.session_factory = session_factory
    return args.handler(args, sys.stdout, sys.stderr)


def _error(stderr: TextIO, message: str) -> int:
    print(f"{PROG}: error: {message}", file=stderr)
    return EXIT_ERROR


def _preflight(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from eks_ai_data.ops import preflight

    try:
        plan = preflight.parse_plan(args.instance_types, args.nodes)
        reservations = preflight.parse_reservations(args.capacity_reservation, plan)
    except ValueError as exc:
        return _error(stderr, str(exc))
    zones = (
        [z.strip() for z in args.availability_zones.split(",") if z.strip()]
        if args.availability_zones
        else None
    )

    def checks(aws: Any) -> tuple[list[Any], dict[str, Any]]:
        rows = preflight.run(
            aws,
            plan=plan,
            capacity_type=args.capacity_type,
            kubernetes_version=args.kubernetes_version,
            availability_zones=zones,
            capacity_reservations=reservations,
        )
        return rows, {"region": aws.region, "capacity_type": args.capacity_type}

    return _run_checks("preflight", args, stdout, stderr, checks)


def _verify(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from eks_ai_data.ops import verify

    def checks(aws: Any) -> tuple[list[Any], dict[str, Any]]:
        rows, view = verify.run(aws, args.stack)
        return rows, {"region": aws.region, "stack": view.name, "outputs": view.outputs}

    return _run_checks("verify", args, stdout, stderr, checks)


def _run_checks(
    command: str,
    args: argparse.Namespace,
    stdout: TextIO,
    stderr: TextIO,
    produce: Callable[[Any], tuple[list[Any], dict[str, Any]]],
) -> int:
    from eks_ai_data.ops import aws as ops_aws
    from eks_ai_data.ops import table

    try:
        aws = ops_aws.Aws.open(region=args.region, profile=args.profile, session_factory=args.session_factory)
        rows, extra = produce(aws)
    except ops_aws.AWS_ERRORS as exc:
        return _error(stderr, str(ops_aws.translate(exc)))

    if args.json:
        print(table.render_json(command, rows, **extra), file=stdout)
    else:
        print(table.render_table(rows), file=stdout)
        outputs = extra.get("outputs")
        if outputs:
            print("\noutputs:", file=stdout)
            for key, value in sorted(outputs.items()):
                print(f"  {key} = {value}", file=stdout)
    failed = table.summary(command, rows)
    if failed:
        print(failed, file=stderr)
        return EXIT_CHECKS_FAILED
    return EXIT_OK


def _version() -> str:
    from eks_ai_data import __version__

    return __version__


def _guard(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    import importlib.util

    if importlib.util.find_spec("cfnlint") is None:
        return _error(
            stderr,
            "the guard reads CloudFormation's resource schemas from cfn-lint, which is not installed: "
            f"{GUARD_EXTRA_HINT}",
        )
    from eks_ai_data.guard import guard_main

    return guard_main(
        args.old,
        args.new,
        stream=stdout,
        errors=stderr,
        allow_orphaned=args.allow_orphaned,
        allow_refactor=args.allow_refactor,
        json_output=args.json,
    )


def _cost(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from eks_ai_data.ops import cost
    from eks_ai_data.ops.cost_model import ASSUMPTIONS, SpotRange
    from eks_ai_data.ops.prices import PriceTable, PriceTableError, parse_overrides

    try:
        low, sep, high = args.spot_range.partition("-")
        spot = SpotRange(float(low), float(high))
        if not sep or not 0 <= spot.low <= spot.high <= 1:
            raise ValueError
    except ValueError:
        return _error(
            stderr,
            f"--spot-range {args.spot_range!r}: expected LOW-HIGH shares of on-demand, 0 <= LOW <= HIGH <= 1",
        )
    stored = {}
    for pair in args.stored:
        logical_id, sep, gib = pair.partition("=")
        try:
            stored[logical_id] = float(gib)
            if not sep or not logical_id or stored[logical_id] < 0:
                raise ValueError
        except ValueError:
            return _error(stderr, f"--stored {pair!r}: expected LOGICAL_ID=GIB with a number >= 0")
    try:
        table = PriceTable.load(args.prices).with_overrides(parse_overrides(args.price))
    except PriceTableError as exc:
        return _error(stderr, str(exc))
    return cost.cost_main(
        args.assembly,
        stream=stdout,
        errors=stderr,
        as_json=args.json,
        fail_on_unpriced=args.fail_on_unpriced,
        table=table,
        region=args.region,
        assumptions={a.name: getattr(args, a.name) for a in ASSUMPTIONS},
        spot=spot,
        today=args.date,
        stored=stored,
    )


if __name__ == "__main__":
    sys.exit(main())

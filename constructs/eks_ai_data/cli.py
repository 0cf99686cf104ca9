"""The ``eks-ai-data`` command line: preflight, verify and guard.

Exit codes: 0 every check passed, 1 a check failed (the failures are named on stderr),
2 the command could not run (bad arguments, no credentials or region, unknown stack,
access denied, throttled after retries).

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Operations tooling for eks-ai-data platforms: check an account before "
        "`cdk deploy`, verify a deployed stack, and guard against resource replacement.",
        epilog="Exit codes: 0 all checks passed, 1 a check failed, 2 the command could not run.",
    )
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
        description="Compare the templates of two synthesized cloud assemblies.",
    )
    guard.add_argument("old", metavar="OLD_CDK_OUT", help="cdk.out of the deployed version")
    guard.add_argument("new", metavar="NEW_CDK_OUT", help="cdk.out of the version to deploy")
    guard.add_argument(
        "--allow-orphaned",
        action="store_true",
        help="warn instead of failing when a retained stateful resource leaves the stack (its data stays, "
        "unmanaged); replacements and deletions still fail",
    )
    guard.set_defaults(handler=_guard)
    return parser


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


def _guard(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    try:
        from eks_ai_data.guard import guard_main
    except ModuleNotFoundError as exc:
        if exc.name != "eks_ai_data.guard":
            raise
        return _error(stderr, "the replacement guard (eks_ai_data.guard) is not installed")
    return guard_main(args.old, args.new, stream=stdout, allow_orphaned=args.allow_orphaned)


if __name__ == "__main__":
    sys.exit(main())

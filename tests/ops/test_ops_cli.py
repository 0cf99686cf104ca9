"""The `eks-ai-data` entry point: help, imports, guard dispatch and error messages."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import botocore.endpoint
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws
from ops_fakes import ApiError, FakeAws, fake_credentials, isolate_aws_environment

from eks_ai_data.cli import main
from eks_ai_data.ops.aws import Aws

CONSTRUCTS = str(Path(__file__).resolve().parents[2] / "constructs")
HEAVY = ("aws_cdk", "constructs", "cdk8s", "cdk8s_plus_27", "jsii")

PREFLIGHT = ["preflight", "--instance-types", "m5.large"]


def test_help_works(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: eks-ai-data")
    for command in ("preflight", "verify", "guard"):
        assert command in out


@pytest.mark.parametrize("command", ["preflight", "verify", "guard"])
def test_subcommand_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--help"]) == 0
    assert f"usage: eks-ai-data {command}" in capsys.readouterr().out


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["preflight", "--instance-types", "m5.large", "--nodes", "0"]) == 2
    assert "must be a whole number >= 1, got '0'" in capsys.readouterr().err


def test_cli_and_ops_never_import_the_cdk() -> None:
    """Importing the command line and the ops package loads no aws_cdk/constructs/cdk8s/jsii."""
    code = (
        "import sys, json\n"
        "import eks_ai_data.cli\n"
        "before = sorted(sys.modules)\n"
        "import eks_ai_data.ops.aws, eks_ai_data.ops.preflight, eks_ai_data.ops.verify\n"
        "print(json.dumps({'cli': before, 'ops': sorted(sys.modules)}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": CONSTRUCTS, "PATH": ""},
    )
    modules = json.loads(result.stdout)
    for phase, loaded in modules.items():
        heavy = [m for m in loaded if m.split(".")[0] in HEAVY]
        assert heavy == [], f"{phase} imported {heavy}"
    # the bare entry point does not even load boto3, so --help stays fast
    assert not [m for m in modules["cli"] if m.split(".")[0] in ("boto3", "botocore")]


def test_console_module_help_runs_in_a_fresh_interpreter() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "eks_ai_data.cli", "--help"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": CONSTRUCTS, "PATH": ""},
    )
    assert result.returncode == 0
    assert "usage: eks-ai-data" in result.stdout


def test_guard_is_dispatched_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def guard_main(old: str, new: str, **options: Any) -> int:
        calls.append((old, new, options))
        return 1

    fake_guard = types.ModuleType("eks_ai_data.guard")
    fake_guard.guard_main = guard_main  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "eks_ai_data.guard", fake_guard)
    assert main(["guard", "old/cdk.out", "new/cdk.out"]) == 1
    assert (
        main(["guard", "--allow-orphaned", "--allow-refactor", "--json", "old/cdk.out", "new/cdk.out"]) == 1
    )
    defaults = {"stream": sys.stdout, "errors": sys.stderr, "allow_orphaned": False, "allow_refactor": False}
    assert calls == [
        ("old/cdk.out", "new/cdk.out", {**defaults, "json_output": False}),
        (
            "old/cdk.out",
            "new/cdk.out",
            {**defaults, "allow_orphaned": True, "allow_refactor": True, "json_output": True},
        ),
    ]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from eks_ai_data import __version__

    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"eks-ai-data {__version__}\n"


@pytest.mark.parametrize("command", ["preflight", "verify", "guard"])
def test_every_command_takes_json(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--help"]) == 0
    assert "--json" in capsys.readouterr().out


def test_clients_use_standard_retries(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_aws_environment(monkeypatch, tmp_path)
    fake_credentials(monkeypatch)
    client = Aws.open(region="eu-west-1").client("eks")
    assert client.meta.region_name == "eu-west-1"
    # botocore's max_attempts counts retries: 10 retries after the first call, 11 calls in all
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 11}


# --- error messages: one line on stderr, exit code 2, no traceback ---------------------------


def _assert_one_line_error(capsys: pytest.CaptureFixture[str], code: int, expected: str) -> None:
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith("eks-ai-data: error: ")
    assert "Traceback" not in err
    assert expected in err


def test_missing_credentials(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    isolate_aws_environment(monkeypatch, tmp_path)  # no keys, no files, no instance metadata
    code = main([*PREFLIGHT, "--region", "us-east-1"])
    _assert_one_line_error(capsys, code, "no AWS credentials found: run `aws configure`")


def test_missing_region(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    isolate_aws_environment(monkeypatch, tmp_path, region=None)
    fake_credentials(monkeypatch)
    code = main(["verify", "--stack", "AiDataPlatform"])
    _assert_one_line_error(capsys, code, "no AWS region: pass --region or set AWS_REGION")


def test_unknown_profile(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    isolate_aws_environment(monkeypatch, tmp_path)
    code = main([*PREFLIGHT, "--profile", "nobody"])
    _assert_one_line_error(capsys, code, "AWS profile 'nobody' is not configured")


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    isolate_aws_environment(monkeypatch, tmp_path)
    fake_credentials(monkeypatch)
    with mock_aws():
        yield FakeAws()


def test_access_denied(fake: Any, capsys: pytest.CaptureFixture[str]) -> None:
    def deny(_params: dict[str, Any]) -> dict[str, Any]:
        raise ApiError(
            "AccessDeniedException",
            "User: arn:aws:iam::123456789012:user/ci is not authorized to perform:\n"
            "cloudformation:DescribeStacks",
            403,
        )

    fake.responder.answer("cloudformation", "DescribeStacks", deny)
    code = main(["verify", "--stack", "AiDataPlatform"], session_factory=fake.factory)
    _assert_one_line_error(
        capsys,
        code,
        "access denied to DescribeStacks (AccessDeniedException): the caller needs permission for it. "
        "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: cloudformation:DescribeStacks",
    )


def test_ec2_unauthorized_operation_is_access_denied(fake: Any, capsys: pytest.CaptureFixture[str]) -> None:
    def deny(_params: dict[str, Any]) -> dict[str, Any]:
        raise ApiError("UnauthorizedOperation", "You are not authorized to perform this operation.", 403)

    fake.responder.answer("ec2", "DescribeAvailabilityZones", deny)
    code = main(PREFLIGHT, session_factory=fake.factory)
    _assert_one_line_error(capsys, code, "access denied to DescribeAvailabilityZones (UnauthorizedOperation)")


def test_throttling_after_retries(fake: Any, capsys: pytest.CaptureFixture[str]) -> None:
    def throttle(_params: dict[str, Any]) -> dict[str, Any]:
        raise ApiError("ThrottlingException", "Rate exceeded")

    fake.responder.answer("cloudformation", "DescribeStacks", throttle)
    code = main(["verify", "--stack", "AiDataPlatform"], session_factory=fake.factory)
    _assert_one_line_error(
        capsys, code, "AWS throttled DescribeStacks (ThrottlingException) after 1 attempt(s)"
    )


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def test_throttled_requests_are_retried_with_backoff(
    fake: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A throttled EC2 call is retried by the standard retry mode and then succeeds.

    The throttling answers come from a ``before-send`` handler placed ahead of moto's, so
    they travel through botocore's real retry machinery; the backoff sleeps are recorded
    instead of slept.
    """
    sleeps: list[float] = []
    monkeypatch.setattr(botocore.endpoint.time, "sleep", sleeps.append)
    attempts = {"n": 0}

    def throttle_twice(request: Any, **_: Any) -> AWSResponse | None:
        attempts["n"] += 1
        if attempts["n"] > 2:
            return None  # moto answers
        body = (
            b"<Response><Errors><Error><Code>RequestLimitExceeded</Code>"
            b"<Message>Request limit exceeded.</Message></Error></Errors><RequestID>r</RequestID></Response>"
        )
        return AWSResponse(request.url, 503, {}, _Raw(body))

    fake.session.events.register_first("before-send.ec2.DescribeAvailabilityZones", throttle_twice)
    fake.responder.answer(
        "service-quotas", "GetServiceQuota", lambda p: {"Quota": {"QuotaCode": p["QuotaCode"], "Value": 64.0}}
    )
    fake.responder.answer("eks", "DescribeClusterVersions", lambda _p: {"clusterVersions": []})
    code = main([*PREFLIGHT, "--json"], session_factory=fake.factory)
    out, err = capsys.readouterr()
    assert code == 0, err
    assert attempts["n"] == 3
    assert len(sleeps) == 2
    assert json.loads(out)["ok"] is True

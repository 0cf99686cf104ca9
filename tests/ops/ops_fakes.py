"""Test helpers for the operations commands: fill the gaps of moto 5.2.5, nothing more.

Every AWS call of the commands goes through a real boto3 client. Calls that moto
implements are answered by moto (``mock_aws``); for the few it does not implement, a
:class:`Responder` answers on botocore's ``before-call`` event, the mechanism that
``botocore.stub.Stubber`` uses, keyed by operation instead of by call order. Each answer
is validated against the operation's output shape in the service model, as Stubber does,
so a fake answer cannot take a shape that AWS would never send.

Gaps filled (checked against moto 5.2.5's sources in .venv):

- cloudformation DescribeStacks / ListStackResources / GetTemplate: moto's CloudFormation
  cannot create AWS::EKS::*, AWS::FSx::* or AWS::Backup::* resources (it skips them with a
  warning) and needs the optional openapi-spec-validator; the tests create those resources
  through moto's own EKS/FSx/EFS/KMS/Backup/EC2 APIs and describe the stack that would own them.
- service-quotas GetServiceQuota: moto knows only the ``vpc`` service's quotas.
- eks DescribeClusterVersions, ListAddons, DescribeAddon: not implemented ("Not yet implemented").
- fsx DescribeDataRepositoryAssociations: not implemented.
- fsx DescribeFileSystems: implemented, but moto leaves ``Lifecycle`` out; :meth:`Responder.amend`
  adds it to moto's own answer.
- backup ListBackupSelections: not implemented.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from botocore.validate import ParamValidator

Handler = Callable[[dict[str, Any]], dict[str, Any]]


class ApiError(Exception):
    """Raise from a handler to answer with an AWS error response."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class Responder:
    """Answers chosen operations for every client made from one boto3 session."""

    def __init__(self, session: boto3.Session) -> None:
        self.session = session
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        events = session.events
        events.register("before-parameter-build.*.*", self._remember_params)
        self._answers: dict[tuple[str, str], Handler] = {}

    def _remember_params(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["ops_fakes_params"] = dict(params)

    def answer(self, service: str, operation: str, handler: Handler) -> None:
        """Answer ``service``'s ``operation`` (e.g. ``"eks", "ListAddons"``) with ``handler(params)``."""
        key = (service, operation)
        if key not in self._answers:
            self.session.events.register(f"before-call.{service}.{operation}", self._respond)
        self._answers[key] = handler

    def amend(self, service: str, operation: str, change: Callable[[dict[str, Any]], None]) -> None:
        """Let ``change(parsed)`` edit moto's own answer to ``operation`` before the caller sees it."""

        def after_call(parsed: dict[str, Any], **_: Any) -> None:
            change(parsed)

        self.session.events.register(f"after-call.{service}.{operation}", after_call)

    def _respond(self, model: Any, context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        service = model.service_model.service_id.hyphenize()
        params = context.get("ops_fakes_params", {})
        self.calls.append((service, model.name, params))
        try:
            body = self._answers[(service, model.name)](params)
        except ApiError as err:
            error = {
                "Error": {"Code": err.code, "Message": err.message},
                "ResponseMetadata": {"HTTPStatusCode": err.status},
            }
            return AWSResponse(None, err.status, {}, None), error
        report = ParamValidator().validate(body, model.output_shape)
        if report.has_errors():
            raise AssertionError(
                f"fake {service} {model.name} answer does not fit the model:\n{report.generate_report()}"
            )
        return AWSResponse(None, 200, {}, None), {**body, "ResponseMetadata": {"HTTPStatusCode": 200}}


def paged(items: list[dict[str, Any]], key: str) -> Handler:
    """A handler answering every call with one page holding ``items`` under ``key``."""
    return lambda _params: {key: items}


def stack_handlers(
    responder: Responder,
    *,
    name: str,
    template: dict[str, Any],
    physical_ids: dict[str, str],
    status: str = "CREATE_COMPLETE",
    outputs: dict[str, str] | None = None,
    resource_status: dict[str, str] | None = None,
) -> None:
    """Describe a deployed stack: ``physical_ids`` maps each template logical id to its resource's id."""
    stack_id = (
        f"arn:aws:cloudformation:us-east-1:123456789012:stack/{name}/00000000-0000-0000-0000-000000000000"
    )

    def known(params: dict[str, Any]) -> None:
        if params.get("StackName") not in (name, stack_id):
            raise ApiError("ValidationError", f"Stack with id {params.get('StackName')} does not exist")

    def describe_stacks(params: dict[str, Any]) -> dict[str, Any]:
        known(params)
        stack = {
            "StackId": stack_id,
            "StackName": name,
            "CreationTime": "2026-01-01T00:00:00Z",
            "StackStatus": status,
            "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in (outputs or {}).items()],
        }
        return {"Stacks": [stack]}

    def list_resources(params: dict[str, Any]) -> dict[str, Any]:
        known(params)
        summaries = [
            {
                "LogicalResourceId": logical,
                "PhysicalResourceId": physical_ids[logical],
                "ResourceType": resource["Type"],
                "LastUpdatedTimestamp": "2026-01-01T00:00:00Z",
                "ResourceStatus": (resource_status or {}).get(logical, "CREATE_COMPLETE"),
            }
            for logical, resource in template["Resources"].items()
        ]
        return {"StackResourceSummaries": summaries}

    def get_template(params: dict[str, Any]) -> dict[str, Any]:
        known(params)
        return {"TemplateBody": json.dumps(template)}

    responder.answer("cloudformation", "DescribeStacks", describe_stacks)
    responder.answer("cloudformation", "ListStackResources", list_resources)
    responder.answer("cloudformation", "GetTemplate", get_template)


ACCOUNT = "123456789012"
REGION = "us-east-1"


def isolate_aws_environment(monkeypatch: Any, tmp_path: Any, *, region: str | None = REGION) -> None:
    """No real credentials, config files or instance metadata can leak into a test."""
    for var in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    if region:
        monkeypatch.setenv("AWS_DEFAULT_REGION", region)


def fake_credentials(monkeypatch: Any) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


class FakeAws:
    """A boto3 session with a :class:`Responder`, handed to the command line as its session factory."""

    def __init__(self) -> None:
        self.sessions: list[boto3.Session] = []
        self.session = boto3.Session(region_name=REGION)
        self.responder = Responder(self.session)

    def factory(self, *, region: str | None, profile: str | None) -> boto3.Session:
        self.sessions.append(self.session)
        return self.session

    def client(self, service: str) -> Any:
        return self.session.client(service, region_name=REGION)

"""Sessions, clients and error translation for the operations commands.

Every client uses botocore's *standard* retry mode with ``max_attempts=10`` (botocore
counts retries there: up to 10 retries after the first attempt, 11 calls in all), so that
throttling (``Throttling``, ``ThrottlingException``, ``RequestLimitExceeded``, ...) and
transient errors are retried with exponential backoff before they reach the user.
Whatever still fails is turned into an :class:`OpsError` with a one-line message;
the command line prints it and exits with code 2.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    CredentialRetrievalError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)

#: Client configuration shared by every command: standard retry mode, 10 retries.
RETRY_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 10},
    user_agent_extra="eks-ai-data-ops",
)

NO_REGION = "no AWS region: pass --region or set AWS_REGION (or a region in your AWS profile)"
NO_CREDENTIALS = (
    "no AWS credentials found: run `aws configure` or `aws sso login`, set AWS_PROFILE, "
    "or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
)

# Error codes that AWS services use for throttling (botocore's standard retry mode
# retries these; we only see them once all attempts are spent).
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "RequestThrottled",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "BandwidthLimitExceeded",
        "SlowDown",
        "EC2ThrottledException",
        "PriorRequestNotComplete",
    }
)

# Codes meaning "the credentials themselves were rejected".
BAD_CREDENTIAL_CODES = frozenset(
    {
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "ExpiredToken",
        "ExpiredTokenException",
        "AuthFailure",
        "SignatureDoesNotMatch",
        "InvalidSignatureException",
    }
)

# Codes meaning "no such resource"; checks turn these into failed rows, not errors.
NOT_FOUND_CODES = frozenset(
    {
        "ResourceNotFoundException",
        "NotFoundException",
        "FileSystemNotFound",
        "MountTargetNotFound",
        "DataRepositoryAssociationNotFound",
        "NoSuchResourceException",
    }
)


class OpsError(Exception):
    """A failure that stops a command before its checks could run; the message is one line."""


def new_session(*, region: str | None, profile: str | None) -> boto3.Session:
    """The boto3 session the commands use (tests substitute their own factory)."""
    return boto3.Session(region_name=region, profile_name=profile)


SessionFactory = Callable[..., boto3.Session]


class Aws:
    """One region of one account: cached clients, all with :data:`RETRY_CONFIG`."""

    def __init__(self, session: boto3.Session, region: str | None = None) -> None:
        self.session = session
        self.region: str = region or session.region_name or ""
        if not self.region:
            raise OpsError(NO_REGION)
        self._clients: dict[str, Any] = {}

    @classmethod
    def open(
        cls,
        *,
        region: str | None,
        profile: str | None = None,
        session_factory: SessionFactory | None = None,
    ) -> Aws:
        factory = session_factory or new_session
        try:
            session = factory(region=region, profile=profile)
        except ProfileNotFound as exc:
            raise OpsError(f"AWS profile {profile!r} is not configured ({exc})") from exc
        return cls(session, region)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(
                service, region_name=self.region, config=RETRY_CONFIG
            )
        return self._clients[service]

    def paginate(self, service: str, operation: str, key: str, **params: Any) -> Iterator[Any]:
        """Yield every item under ``key`` across all pages of ``operation``."""
        paginator = self.client(service).get_paginator(operation)
        for page in paginator.paginate(**params):
            yield from page.get(key, [])

    def available_regions(self, service: str) -> list[str]:
        """Regions where botocore's endpoint data (shipped with the SDK) lists ``service``."""
        partition = self.session.get_partition_for_region(self.region)
        return self.session.get_available_regions(service, partition_name=partition)


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def error_message(exc: ClientError) -> str:
    return " ".join(str(exc.response.get("Error", {}).get("Message", "")).split())


def is_not_found(exc: BaseException) -> bool:
    return isinstance(exc, ClientError) and error_code(exc) in NOT_FOUND_CODES


def translate(exc: BaseException) -> OpsError:
    """Turn a boto3/botocore exception into an :class:`OpsError` with a one-line message."""
    if isinstance(exc, OpsError):
        return exc
    if isinstance(exc, NoCredentialsError | PartialCredentialsError | CredentialRetrievalError):
        return OpsError(NO_CREDENTIALS)
    if isinstance(exc, NoRegionError):
        return OpsError(NO_REGION)
    if isinstance(exc, ProfileNotFound):
        return OpsError(f"AWS profile is not configured ({exc})")
    if isinstance(exc, EndpointConnectionError):
        return OpsError(f"cannot reach AWS: {exc}")
    if isinstance(exc, ClientError):
        code = error_code(exc)
        operation = exc.operation_name
        message = error_message(exc)
        attempts = exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0) + 1
        if code in THROTTLING_CODES:
            return OpsError(
                f"AWS throttled {operation} ({code}) after {attempts} attempt(s) "
                "with standard retries; wait a minute and run the command again"
            )
        if code.startswith("AccessDenied") or code in {"UnauthorizedOperation", "AuthorizationError"}:
            return OpsError(
                f"access denied to {operation} ({code}): the caller needs permission for it. {message}"
            )
        if code in BAD_CREDENTIAL_CODES:
            return OpsError(f"AWS rejected the credentials on {operation} ({code}): {message}")
        return OpsError(f"{operation} failed ({code}): {message}")
    if isinstance(exc, BotoCoreError):
        return OpsError(" ".join(str(exc).split()))
    return OpsError(f"{type(exc).__name__}: {exc}")


AWS_ERRORS: tuple[type[BaseException], ...] = (BotoCoreError, ClientError, OpsError)

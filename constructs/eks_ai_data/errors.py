"""The project's one error type for bad input (layer 1: no CDK import).

Every construct validates its props in its constructor and raises
:class:`EksAiDataValidationError` with a message that names the construct path,
the prop, the value given and what is allowed, so that a bad value never
reaches CloudFormation.
"""

from __future__ import annotations

from typing import Any


class EksAiDataValidationError(ValueError):
    """A prop value that the construct (or helper) does not accept.

    Attributes mirror the message so that callers and tests can inspect them.

    :param where: the construct path (or helper) that refused the value.
    :param prop: the prop as the user passed it.
    :param value: the value refused.
    :param allowed: what is allowed instead.
    """

    def __init__(self, where: str, prop: str, value: Any, allowed: str) -> None:
        self.where = where
        self.prop = prop
        self.value = value
        self.allowed = allowed
        super().__init__(f"{where}: invalid {prop}={value!r}: {allowed}")


def check(condition: bool, where: str, prop: str, value: Any, allowed: str) -> None:
    """Raise :class:`EksAiDataValidationError` unless ``condition`` holds."""
    if not condition:
        raise EksAiDataValidationError(where, prop, value, allowed)

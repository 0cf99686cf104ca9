"""The project's one error type for bad input (layer 1: no CDK import).

Every construct validates its props in its constructor and raises
:class:`EksAiDataValidationError` with a message that names the construct path,
the prop, the value given and what is allowed, so that a bad value never
reaches CloudFormation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
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


#: How :func:`reported_by` names the prop: the prop itself, or a function of the error (its message tells which).
Rename = Mapping[str, "str | Callable[[EksAiDataValidationError], str]"]


@contextlib.contextmanager
def reported_by(where: str, rename: Rename | None = None) -> Iterator[None]:
    """Re-raise a validation error raised inside (by a chart or a child construct) as the construct at ``where``
    reports it: with its path and, where ``rename`` maps the error's prop, the prop the user passed there.

    With ``rename``, errors on props it does not map pass unchanged; without it, every error gets ``where`` as its
    path, unless it already names ``where`` or a construct below it.
    """
    try:
        yield
    except EksAiDataValidationError as error:
        if rename is None:
            if error.where.startswith(where):
                raise
            prop = error.prop
        elif error.prop in rename:
            new = rename[error.prop]
            prop = new if isinstance(new, str) else new(error)
        else:
            raise
        raise EksAiDataValidationError(where, prop, error.value, error.allowed) from error


def require_items(
    scope: Any, prop: str, value: Any, kinds: type | tuple[type, ...], *, what: str | None = None
) -> list[Any]:
    """``value`` as a list whose items are all ``kinds``; one item on its own (a string, which Python would iterate
    letter by letter, or a single spec) is refused with the list to write instead. ``what``: how the message names
    the items (default: the kinds' class names). ``scope``: the construct or chart whose path the message names."""
    names = what or (kinds.__name__ if isinstance(kinds, type) else " or ".join(k.__name__ for k in kinds))
    if isinstance(value, (str, Mapping)) or isinstance(value, kinds):
        raise EksAiDataValidationError(
            scope.node.path, prop, value, f"must be a list of {names}, not one: [{value!r}]"
        )
    try:
        items = list(value)
    except TypeError:
        raise EksAiDataValidationError(scope.node.path, prop, value, f"must be a list of {names}") from None
    for item in items:
        if not isinstance(item, kinds):
            raise EksAiDataValidationError(
                scope.node.path, prop, item, f"must be a list of {names}: this item is not one"
            )
    return items


def shown(value: Any) -> Any:
    """How a message shows a value given for a resource prop: a construct by its path, a string, number or
    ``None`` as itself (the value the user passed), anything else by its type."""
    path = getattr(getattr(value, "node", None), "path", None)
    if path is not None:
        return path
    if value is None or isinstance(value, (str, int, float)):
        return value
    return type(value).__name__


def require_bool(scope: Any, prop: str, value: Any) -> bool:
    """``True`` or ``False``; a string such as ``"no"`` (truthy in Python) or a number is refused. ``scope``: the
    construct or chart whose path the message names."""
    if not isinstance(value, bool):
        raise EksAiDataValidationError(scope.node.path, prop, value, "must be True or False")
    return value


def require_mapping(scope: Any, prop: str, value: Any, what: str) -> dict[Any, Any]:
    """``value`` (``None``: empty) as a dict; a string or a list is refused with ``must be <what>``."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise EksAiDataValidationError(scope.node.path, prop, value, f"must be {what}")
    return dict(value)

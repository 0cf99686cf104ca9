"""Template values as CloudFormation reads them, for the replacement guard (no CDK import).

CloudFormation resolves a template's values before it compares them, so values written differently
can be equal: strings equal to numbers or booleans are equal (CloudFormation passes scalars as
strings; ``cdk diff`` compares the same way), ``{"Ref": "AWS::NoValue"}`` is an absent property
(and an absent list item), and ``Fn::Join`` / ``Fn::Sub`` of literals are the string they make.
Every other intrinsic function is compared as written: pointing a ``KmsKeyId`` at another key is
a change, and two spellings of one token (a key's ``Ref`` and its ARN) are not proven equal.
"""

from __future__ import annotations

import json
from typing import Any

from eks_ai_data.stateful import MISSING


def normalize(value: Any) -> Any:
    """``value`` as CloudFormation reads it: NoValue dropped, literal joins and subs evaluated."""
    if isinstance(value, dict):
        if value == {"Ref": "AWS::NoValue"}:
            return MISSING
        if len(value) == 1:
            (key, arg) = next(iter(value.items()))
            if key == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], list):
                parts = [normalize(p) for p in arg[1]]
                if isinstance(arg[0], str) and all(isinstance(p, str) for p in parts):
                    return arg[0].join(parts)
            if key == "Fn::Sub" and isinstance(arg, str) and "${" not in arg:
                return arg
        items = {k: normalize(v) for k, v in value.items()}
        return {k: v for k, v in items.items() if v is not MISSING}
    if isinstance(value, list):
        return [item for item in (normalize(v) for v in value) if item is not MISSING]
    return value


def _scalar(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(float(value))
    if isinstance(value, str):
        try:
            return repr(float(value))
        except ValueError:
            return value
    return value


def _key(value: Any) -> str:
    def canon(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: canon(x) for k, x in v.items()}
        if isinstance(v, list):
            return [canon(x) for x in v]
        return _scalar(v)

    return json.dumps(canon(value), sort_keys=True)


def same_value(a: Any, b: Any) -> bool:
    """Whether CloudFormation reads ``a`` and ``b`` (template values, or :data:`MISSING`) as equal."""
    a, b = normalize(a), normalize(b)
    if a is MISSING or b is MISSING:
        return a is b
    return _key(a) == _key(b)


def present(value: Any) -> bool:
    return normalize(value) not in (MISSING, "", None)


def is_true(value: Any) -> bool:
    return _scalar(normalize(value)) == "true"


def text(value: Any) -> str | None:
    value = normalize(value)
    return value.lower() if isinstance(value, str) else None

"""_validate.unresolved answers plain values in Python and agrees with aws-cdk-lib's Token.is_unresolved."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import Token
from aws_cdk import aws_s3 as s3

from eks_ai_data import _validate
from eks_ai_data._validate import unresolved


def test_agrees_with_the_kernel_on_plain_values_and_tokens():
    stack = cdk.Stack(cdk.App(), "Tokens")
    bucket = s3.Bucket(stack, "Bucket")
    values = [
        "plain",
        "has ${braces} but no marker",
        "Token[ looks like one but is not",
        "",
        0,
        -7,
        2**40,
        1.5,
        True,
        None,
        stack.region,
        cdk.Aws.ACCOUNT_ID,
        bucket.bucket_name,
        f"prefix-{bucket.bucket_name}",
        Token.as_number(bucket.bucket_name),
        Token.as_list(bucket.bucket_arn),
    ]
    tokens = 0
    for value in values:
        expected = Token.is_unresolved(value)
        tokens += expected
        assert unresolved(value) == expected, value
    assert tokens == 6  # the region, the account, the name (also in a string), as a number and as a list
    assert unresolved(["plain", bucket.bucket_name])
    assert not unresolved(["plain", 3])


def test_plain_values_need_no_kernel_round_trip(monkeypatch):
    def refuse(_value):
        raise AssertionError("asked the jsii kernel")

    monkeypatch.setattr(_validate.Token, "is_unresolved", refuse)
    assert not unresolved("plain")
    assert not unresolved(["a", "b", 3, None, False])
    assert not unresolved(2**40)

"""keys.allow_alarm_notifications: the key-policy statement CloudWatch alarms need to publish to an encrypted topic."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms

from eks_ai_data.keys import ALARM_TOPIC_KEY_ACTIONS, DataKeys, allow_alarm_notifications


def _key_statements(stack: cdk.Stack, key: kms.Key) -> list[dict]:
    return stack.resolve(key.node.default_child.key_policy)["Statement"]


def test_a_managed_key_lets_cloudwatch_alarms_use_it_for_topic_encryption():
    stack = cdk.Stack(cdk.App(), "S", env=cdk.Environment(account="111122223333", region="us-east-1"))
    keys = DataKeys(stack, "Keys")
    before = _key_statements(stack, keys.data_key)
    assert not any(s.get("Sid") == "AllowCloudWatchAlarmsToEncryptedTopic" for s in before)
    assert allow_alarm_notifications(keys.data_key) is True
    (statement,) = [
        s
        for s in _key_statements(stack, keys.data_key)
        if s.get("Sid") == "AllowCloudWatchAlarmsToEncryptedTopic"
    ]
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert (
        sorted(statement["Action"])
        == sorted(ALARM_TOPIC_KEY_ACTIONS)
        == ["kms:Decrypt", "kms:GenerateDataKey*"]
    )
    assert statement["Resource"] == "*" and statement["Effect"] == "Allow"
    # the backup and secrets keys are untouched
    for other in (keys.secrets_key, keys.backup_key):
        assert not any(
            s.get("Sid") == "AllowCloudWatchAlarmsToEncryptedTopic" for s in _key_statements(stack, other)
        )


def test_an_imported_key_is_reported_not_changed():
    stack = cdk.Stack(cdk.App(), "S")
    key = kms.Key.from_key_arn(
        stack, "K", "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )
    assert allow_alarm_notifications(key) is False

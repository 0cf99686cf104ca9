"""The reference app under the feature flags a new project gets from ``cdk init`` (tests/fixtures/cdk_init):
the same gates, every log group encrypted, and the same identity for stateful and networking resources as under
no flags (the constructs pin the flags that would change it: eks_ai_data._flags)."""

from __future__ import annotations

import pytest

from eks_ai_data._flags import (
    LAMBDA_MANAGED_LOG_GROUP,
    MOUNT_TARGET_ORDER_INSENSITIVE_IDS,
    NATIVE_OIDC_PROVIDER,
)
from tests._gates import cfn_lint_errors
from tests._identity import identity_differences, log_group_problems
from tests.conftest import cdk_init_context

pytestmark = pytest.mark.heavy


def test_the_fixture_is_what_cdk_init_writes():
    context = cdk_init_context()
    assert len(context) == 89
    # the flags whose defaults would change what the constructs create, each pinned by the construct
    assert context[MOUNT_TARGET_ORDER_INSENSITIVE_IDS] is True
    assert context[NATIVE_OIDC_PROVIDER] is True
    assert context[LAMBDA_MANAGED_LOG_GROUP] is True
    assert context["@aws-cdk/core:defaultCrossStackReferences"] == "weak"


def test_cdk_nag_under_cdk_init_flags(reference_cdk_init):
    assert reference_cdk_init.nag_findings == []


@pytest.mark.parametrize(
    "stack",
    ["EksAiDataTrainingData", "EksAiDataTrainingBlue", "EksAiDataInferenceData", "EksAiDataInferenceBlue"],
)
def test_cfn_lint_under_cdk_init_flags(reference_cdk_init, stack):
    assert cfn_lint_errors(reference_cdk_init.template(stack)) == []


@pytest.mark.parametrize("flags", ["none", "cdk-init"])
def test_every_log_group_is_encrypted_kept_a_while_and_retained(reference, reference_cdk_init, flags):
    synthesized = reference if flags == "none" else reference_cdk_init
    assert log_group_problems(synthesized.templates) == []


def test_stateful_and_networking_resources_are_the_same_under_both_flag_sets(reference, reference_cdk_init):
    assert identity_differences(reference, reference_cdk_init) == []
    assert identity_differences(reference_cdk_init, reference) == []


def test_the_cluster_stacks_consume_exports_under_both_flag_sets(reference, reference_cdk_init):
    """cdk init sets weak cross-stack references; the reference cluster stacks pin strong ones (exports)."""
    for synthesized in (reference, reference_cdk_init):
        text = str(synthesized.template("EksAiDataTrainingBlue"))
        assert "Fn::ImportValue" in text and "Fn::GetStackOutput" not in text

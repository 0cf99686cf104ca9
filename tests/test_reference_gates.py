"""Gates on every reference stack: cfn-lint (no errors), cdk-nag AwsSolutions (no unacknowledged finding), snapshot."""

from __future__ import annotations

import pytest

from tests._gates import cfn_lint_errors, normalize_template

REFERENCE_STACKS = [
    "EksAiDataInferenceBlue",
    "EksAiDataInferenceData",
    "EksAiDataTrainingBlue",
    "EksAiDataTrainingData",
]


def test_reference_app_has_the_expected_stacks(reference):
    assert sorted(reference.templates) == sorted(REFERENCE_STACKS)


@pytest.mark.parametrize("stack", REFERENCE_STACKS)
def test_cfn_lint_reports_no_errors(reference, stack):
    assert cfn_lint_errors(reference.template(stack)) == []


def test_cdk_nag_has_no_unacknowledged_finding(reference):
    assert reference.nag_findings == []


@pytest.mark.parametrize("stack", REFERENCE_STACKS)
def test_template_matches_snapshot(reference, stack, snapshot_json):
    assert normalize_template(reference.template(stack)) == snapshot_json

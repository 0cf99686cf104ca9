"""The cfn-lint gate itself: one runner per process lints many templates, each on its own."""

from __future__ import annotations

from tests._gates import cfn_lint_errors

BAD = {
    "Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"VersioningConfiguration": {"Status": "Maybe"}}},
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"NoSuchProperty": 1}},
    }
}
GOOD = {"Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {}}}}


def test_errors_are_reported_with_rule_and_path():
    errors = cfn_lint_errors(BAD)
    assert any(
        e.startswith("E3030 Resources/Bucket/Properties/VersioningConfiguration/Status") for e in errors
    ), errors
    assert any(e.startswith("E3002 Resources/Queue/Properties/NoSuchProperty") for e in errors), errors


def test_a_reused_runner_carries_nothing_from_one_template_to_the_next():
    assert cfn_lint_errors(BAD)
    assert cfn_lint_errors(GOOD) == []
    assert cfn_lint_errors(BAD) == cfn_lint_errors(BAD)


def test_each_set_of_regions_gets_its_own_runner():
    from tests._gates import _cfn_lint_runner

    assert cfn_lint_errors(GOOD, regions=["eu-west-1"]) == []
    assert cfn_lint_errors(BAD, regions=["eu-west-1", "us-east-1"])
    assert _cfn_lint_runner(("eu-west-1",)).config.regions == ["eu-west-1"]
    assert _cfn_lint_runner(("eu-west-1", "us-east-1")).config.regions == ["eu-west-1", "us-east-1"]

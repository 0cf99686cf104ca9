"""AiCluster's log groups: the control-plane group created before the cluster under a deterministic name, and
every function's group encrypted with the data key, retained, with a retention (eks_ai_data.function_logs)."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_logs as logs

from eks_ai_data import AiCluster, DataKeys, EksAiDataValidationError, default_cluster_name
from tests._identity import log_group_problems


@pytest.fixture(scope="module")
def two_clusters():
    """Two clusters in one stack (one named, one not, with a retention of its own)."""
    stack = cdk.Stack(cdk.App(), "Logs")
    keys = DataKeys(stack, "Keys")
    first = AiCluster(stack, "First", keys=keys)
    second = AiCluster(
        stack,
        "Second",
        keys=keys,
        vpc=first.vpc,
        cluster_name="research",
        log_retention=logs.RetentionDays.TWO_YEARS,
    )
    return stack, first, second, cdk.assertions.Template.from_stack(stack).to_json()


def _of(template, type_):
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def test_control_plane_log_groups_are_named_for_their_clusters_and_created_first(two_clusters):
    stack, first, second, template = two_clusters
    clusters = {v["Properties"]["Name"]: (k, v) for k, v in _of(template, "AWS::EKS::Cluster").items()}
    assert set(clusters) == {"Logs-First", "research"}
    groups = {
        v["Properties"].get("LogGroupName"): (k, v) for k, v in _of(template, "AWS::Logs::LogGroup").items()
    }
    for name, (_, cluster) in clusters.items():
        group_id, group = groups[f"/aws/eks/{name}/cluster"]
        assert group_id in cluster["DependsOn"], "EKS would create the group itself on its first log event"
        assert group["Properties"]["KmsKeyId"] == {
            "Fn::GetAtt": [stack.get_logical_id(first.keys.data_key.node.default_child), "Arn"]
        }
        assert group["DeletionPolicy"] == "Retain"
    assert groups["/aws/eks/Logs-First/cluster"][1]["Properties"]["RetentionInDays"] == 365
    assert groups["/aws/eks/research/cluster"][1]["Properties"]["RetentionInDays"] == 731
    assert (
        first.cluster_name == "Logs-First"
        and second.control_plane_log_group is not first.control_plane_log_group
    )


def test_every_function_logs_to_its_own_encrypted_group(two_clusters):
    _, first, second, template = two_clusters
    assert log_group_problems({"Logs": template}) == []
    functions = _of(template, "AWS::Lambda::Function")
    # two kubectl providers (handler + framework each), one CfnJson provider, one restrict-default-SG provider
    assert len(functions) == 6
    targets = {f["Properties"]["LoggingConfig"]["LogGroup"]["Ref"] for f in functions.values()}
    assert len(targets) == 6, "one group per function, the stack-wide providers' given once"
    assert len(first.function_log_groups) == len(second.function_log_groups) == 2


def test_the_cdk_managed_log_group_flag_adds_nothing():
    stack = cdk.Stack(cdk.App(context={"@aws-cdk/aws-lambda:useCdkManagedLogGroup": True}), "Flag")
    AiCluster(stack, "Platform")
    template = cdk.assertions.Template.from_stack(stack).to_json()
    assert log_group_problems({"Flag": template}) == []
    assert len(_of(template, "AWS::Logs::LogGroup")) == 1 + 1 + 4  # flow logs, control plane, four functions


@pytest.mark.parametrize(
    ("stack_name", "path", "expected"),
    [
        ("EksAiDataTrainingBlue", ["Platform"], "EksAiDataTrainingBlue-Platform"),
        ("Team", ["Ml", "Cluster_1"], "Team-Ml-Cluster_1"),
    ],
)
def test_default_cluster_names(stack_name, path, expected):
    scope = cdk.Stack(cdk.App(), stack_name)
    for part in path:
        scope = cdk.Resource(scope, part)
    assert default_cluster_name(scope) == expected


def test_default_cluster_names_drop_characters_and_length_with_a_hash():
    stack = cdk.Stack(cdk.App(), "S", stack_name="a" * 90)
    odd = cdk.Resource(cdk.Resource(stack, "Platform.v2"), "Cluster")
    name = default_cluster_name(odd)
    assert len(name) <= 100 and name.startswith("a" * 90) and "." not in name
    again = default_cluster_name(cdk.Resource(cdk.Resource(stack, "Platformv2"), "Cluster"))
    assert name != again, "a hash of the full path keeps names that lose characters apart"


def test_cluster_name_rules():
    with pytest.raises(
        EksAiDataValidationError, match=r"Bad/Platform: invalid cluster_name='1 bad': must be an EKS"
    ):
        AiCluster(cdk.Stack(cdk.App(), "Bad"), "Platform", cluster_name="1 bad")

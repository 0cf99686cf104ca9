"""The existing-cluster example: gates, snapshot, both flag sets, and that it builds onto the cluster it is given."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from existing_cluster import RESEARCH
from existing_cluster.stack import TRAINER_SERVICE_ACCOUNT, TRAINING_NAMESPACE
from syrupy.extensions.json import JSONSnapshotExtension

from tests._gates import cfn_lint_errors, normalize_template, unacknowledged_warnings
from tests._identity import identity_differences, log_group_problems
from tests.conftest import cdk_init_context
from tests.k8s.k8s_support import validate
from tests.patterns.test_reference_platforms import manifests

STACK = "ExampleCorpResearchTraining"


@pytest.fixture(scope="module")
def template(existing_cluster_app) -> dict[str, Any]:
    return existing_cluster_app.template(STACK)


def resources(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


# -- gates -------------------------------------------------------------------------------------------------


def test_template_matches_snapshot(template, snapshot):
    assert normalize_template(template) == snapshot(extension_class=JSONSnapshotExtension)


def test_cfn_lint_finds_no_error(template):
    assert cfn_lint_errors(template, regions=[RESEARCH.region]) == []


def test_cdk_nag_finds_nothing_unacknowledged(existing_cluster_app):
    assert existing_cluster_app.nag_findings == []


def test_no_unacknowledged_warning(existing_cluster_app):
    assert unacknowledged_warnings(existing_cluster_app.outdir, STACK) == []


def test_applied_objects_are_valid_kubernetes(existing_cluster_app):
    objs = [obj for found in manifests(existing_cluster_app, STACK).values() for obj in found]
    for obj in objs:
        validate(obj)
    assert {"StorageClass", "PersistentVolume", "PersistentVolumeClaim", "ServiceAccount"} <= {
        o["kind"] for o in objs
    }


def test_cdk_json_carries_cdk_inits_context():
    from tests.conftest import CDK_INIT_CDK_JSON

    app_dir = Path(__file__).resolve().parents[1]
    ours, theirs = (json.loads(p.read_text()) for p in (app_dir / "cdk.json", CDK_INIT_CDK_JSON))
    assert ours == theirs  # the app line, watch and context cdk init writes, unchanged
    assert ours["context"] == cdk_init_context()


def test_same_identity_and_encrypted_logs_under_both_flag_sets(
    existing_cluster_app, existing_cluster_no_flags
):
    assert identity_differences(existing_cluster_no_flags, existing_cluster_app) == []
    for synthesized in (existing_cluster_app, existing_cluster_no_flags):
        assert log_group_problems(synthesized.templates) == []


# -- built onto the existing cluster ------------------------------------------------------------------------


def test_no_cluster_or_network_is_created(template):
    for type_ in ("AWS::EKS::Cluster", "AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::IAM::OIDCProvider"):
        assert not resources(template, type_), type_
    for group in resources(template, "AWS::EKS::Nodegroup").values():
        assert group["Properties"]["ClusterName"] == RESEARCH.cluster_name


def test_the_kubectl_function_reaches_the_private_endpoint_and_is_cluster_admin(template):
    functions = [
        f for f in resources(template, "AWS::Lambda::Function").values() if "VpcConfig" in f["Properties"]
    ]
    assert functions
    for fn in functions:
        assert fn["Properties"]["VpcConfig"]["SubnetIds"] == list(RESEARCH.private_subnet_ids)
        assert fn["Properties"]["VpcConfig"]["SecurityGroupIds"] == [RESEARCH.cluster_security_group_id]
    (entry,) = resources(template, "AWS::EKS::AccessEntry").values()
    assert entry["Properties"]["ClusterName"] == RESEARCH.cluster_name
    (policy,) = entry["Properties"]["AccessPolicies"]
    assert json.dumps(policy["PolicyArn"]).endswith(':cluster-access-policy/AmazonEKSClusterAdminPolicy"]]}')
    role = entry["Properties"]["PrincipalArn"]["Fn::GetAtt"][0]
    assert template["Resources"][role]["Type"] == "AWS::IAM::Role"


def test_lustre_admits_the_cluster_security_group_both_ways(template):
    (fs_id, fs) = next(iter(resources(template, "AWS::FSx::FileSystem").items()))
    assert fs["Properties"]["SubnetIds"] == [RESEARCH.private_subnet_ids[0]]
    clients = {
        (r["Type"], r["Properties"]["FromPort"])
        for r in template["Resources"].values()
        if r["Type"] in ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress")
        and RESEARCH.cluster_security_group_id
        in (
            r["Properties"].get("GroupId"),
            r["Properties"].get("SourceSecurityGroupId"),
            r["Properties"].get("DestinationSecurityGroupId"),
        )
    }
    assert clients == {
        (t, p)
        for t in ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress")
        for p in (988, 1018)
    }
    assert fs_id


def test_trainer_trusts_the_existing_oidc_provider_for_one_service_account(template):
    roles = [r for k, r in resources(template, "AWS::IAM::Role").items() if k.startswith("TrainerRole")]
    (role,) = roles
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Federated": RESEARCH.oidc_provider_arn}
    conditions = template["Resources"][statement["Condition"]["StringEquals"]["Fn::GetAtt"][0]]["Properties"][
        "Value"
    ]
    text = json.dumps(conditions)
    assert f"system:serviceaccount:{TRAINING_NAMESPACE}:{TRAINER_SERVICE_ACCOUNT}" in text

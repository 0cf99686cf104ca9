"""Example Corp's ML platform: snapshot, cfn-lint, cdk-nag, and that it is built into the existing resources."""

from __future__ import annotations

import json
from typing import Any

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from company_app import PRODUCTION
from company_app.ml_platform import DATASET_CLAIM, TRAINER_SERVICE_ACCOUNT, TRAINING_NAMESPACE
from tests._gates import (
    acknowledgment_problems,
    cfn_lint_errors,
    nag_pack_names,
    normalize_template,
    unacknowledged_warnings,
)

STACK = "ExampleCorpMlPlatform"


@pytest.fixture(scope="module")
def template(company_app) -> dict[str, Any]:
    return company_app.template(STACK)


def resources(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def only(template: dict[str, Any], type_: str) -> tuple[str, dict[str, Any]]:
    found = resources(template, type_)
    assert len(found) == 1, f"expected one {type_}, found {sorted(found)}"
    return next(iter(found.items()))


def render(value: Any) -> str:
    """A CloudFormation string value with references written as <Ref:Id> and <GetAtt:Id.Attr>."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return f"<Ref:{value['Ref']}>"
    if "Fn::GetAtt" in value:
        return f"<GetAtt:{'.'.join(value['Fn::GetAtt'])}>"
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(render(part) for part in parts)
    raise AssertionError(f"unexpected intrinsic {value}")


def applied_objects(template: dict[str, Any]) -> list[dict[str, Any]]:
    """Every Kubernetes object the cluster applies (from the manifests of the kubectl provider)."""
    objects = []
    for manifest in resources(template, "Custom::AWSCDK-EKS-KubernetesResource").values():
        objects.extend(json.loads(render(manifest["Properties"]["Manifest"])))
    return objects


# -- gates -------------------------------------------------------------------------------------------


def test_template_matches_snapshot(template, snapshot):
    assert normalize_template(template) == snapshot(extension_class=JSONSnapshotExtension)


def test_cfn_lint_finds_no_error(template):
    assert cfn_lint_errors(template, regions=[PRODUCTION.region]) == []


def test_cdk_nag_finds_nothing_unacknowledged(company_app):
    assert company_app.nag_findings == []


def test_no_unacknowledged_warning(company_app):
    assert unacknowledged_warnings(company_app.outdir, STACK) == []


def test_environment_is_the_company_account_and_region(company_app):
    stack = company_app.app.node.find_child(STACK)
    assert (stack.account, stack.region) == (PRODUCTION.account, PRODUCTION.region)


# -- built into the existing resources ------------------------------------------------------------------


def test_no_network_is_created_the_cluster_uses_the_existing_private_subnets(template):
    assert not resources(template, "AWS::EC2::VPC")
    assert not resources(template, "AWS::EC2::Subnet")
    _, cluster = only(template, "AWS::EKS::Cluster")
    assert cluster["Properties"]["ResourcesVpcConfig"]["SubnetIds"] == list(PRODUCTION.private_subnet_ids)
    assert cluster["Properties"]["ResourcesVpcConfig"]["EndpointPublicAccess"] is False
    kubectl = [
        fn for fn in resources(template, "AWS::Lambda::Function").values() if "VpcConfig" in fn["Properties"]
    ]
    assert kubectl, "the kubectl provider runs in the VPC (private endpoint)"
    for fn in kubectl:
        assert fn["Properties"]["VpcConfig"]["SubnetIds"] == list(PRODUCTION.private_subnet_ids)


def test_lustre_links_the_existing_bucket(template):
    file_system_id, _ = only(template, "AWS::FSx::FileSystem")
    links = {
        dra["Properties"]["FileSystemPath"]: dra["Properties"]
        for dra in resources(template, "AWS::FSx::DataRepositoryAssociation").values()
    }
    bucket = PRODUCTION.dataset_bucket_name
    assert {path: link["DataRepositoryPath"] for path, link in links.items()} == {
        "/datasets": f"s3://{bucket}/datasets/",
        "/checkpoints": f"s3://{bucket}/checkpoints/",
    }
    for link in links.values():
        assert link["FileSystemId"] == {"Ref": file_system_id}
    assert "AutoExportPolicy" not in links["/datasets"]["S3"]
    # removing a checkpoint on Lustre does not delete it in S3 (deletions are exported only on request)
    assert links["/checkpoints"]["S3"]["AutoExportPolicy"]["Events"] == ["NEW", "CHANGED"]
    assert not resources(template, "AWS::S3::Bucket"), "the existing bucket is used, none is created"


def test_gpu_nodes_share_the_file_system_subnet(template):
    _, file_system = only(template, "AWS::FSx::FileSystem")
    gpu_groups = [
        group["Properties"]
        for group in resources(template, "AWS::EKS::Nodegroup").values()
        if group["Properties"]["InstanceTypes"] == ["p5.48xlarge"]
    ]
    assert len(gpu_groups) == 1
    assert file_system["Properties"]["SubnetIds"] == [PRODUCTION.private_subnet_ids[0]]
    assert gpu_groups[0]["Subnets"] == file_system["Properties"]["SubnetIds"]


def test_the_existing_key_encrypts_data_and_only_the_secrets_key_is_created(template):
    arn = PRODUCTION.data_key_arn
    _, file_system = only(template, "AWS::FSx::FileSystem")
    assert file_system["Properties"]["KmsKeyId"] == arn.rsplit("/", 1)[1]
    templates = resources(template, "AWS::EC2::LaunchTemplate").values()
    assert len(templates) == 2
    for launch_template in templates:
        (mapping,) = launch_template["Properties"]["LaunchTemplateData"]["BlockDeviceMappings"]
        assert mapping["Ebs"]["KmsKeyId"] == arn
    (gp3,) = [
        o for o in applied_objects(template) if o["kind"] == "StorageClass" and o["metadata"]["name"] == "gp3"
    ]
    assert gp3["parameters"]["kmsKeyId"] == arn

    aliases = sorted(a["Properties"]["AliasName"] for a in resources(template, "AWS::KMS::Alias").values())
    assert aliases == [f"alias/eks-ai-data/{STACK}/Keys/secrets"]
    _, cluster = only(template, "AWS::EKS::Cluster")
    (encryption,) = cluster["Properties"]["EncryptionConfig"]
    secrets_key = encryption["Provider"]["KeyArn"]["Fn::GetAtt"][0]
    assert template["Resources"][secrets_key]["Type"] == "AWS::KMS::Key"


def test_training_namespace_gets_the_dataset_claim_and_the_trainer(template):
    objects = applied_objects(template)
    file_system_id, _ = only(template, "AWS::FSx::FileSystem")
    (claim,) = [o for o in objects if o["kind"] == "PersistentVolumeClaim"]
    assert (claim["metadata"]["namespace"], claim["metadata"]["name"]) == (TRAINING_NAMESPACE, DATASET_CLAIM)
    (volume,) = [o for o in objects if o["kind"] == "PersistentVolume"]
    assert volume["spec"]["csi"]["volumeHandle"] == f"<Ref:{file_system_id}>"
    assert claim["spec"]["volumeName"] == volume["metadata"]["name"]

    (account,) = [o for o in objects if o["kind"] == "ServiceAccount"]
    assert (account["metadata"]["namespace"], account["metadata"]["name"]) == (
        TRAINING_NAMESPACE,
        TRAINER_SERVICE_ACCOUNT,
    )
    role = account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
    role_id = role.removeprefix("<GetAtt:").removesuffix(".Arn>")
    assert template["Resources"][role_id]["Type"] == "AWS::IAM::Role"
    (trust,) = template["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    # IRSA: the condition keys name the OIDC issuer, a deploy-time value, so a CfnJson resource renders them.
    conditions_id = trust["Condition"]["StringEquals"]["Fn::GetAtt"][0]
    conditions = template["Resources"][conditions_id]["Properties"]["Value"]
    literal = "".join(part for part in conditions["Fn::Join"][1] if isinstance(part, str))
    assert f':sub":"system:serviceaccount:{TRAINING_NAMESPACE}:{TRAINER_SERVICE_ACCOUNT}"' in literal
    assert ':aud":"sts.amazonaws.com"' in literal


def test_trainer_reads_datasets_and_writes_checkpoints_only(template):
    bucket = PRODUCTION.dataset_bucket_name
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in resources(template, "AWS::IAM::Policy").values()
        if any("Trainer" in r["Ref"] for r in p["Properties"]["Roles"])
    ]
    (statements,) = policies
    object_grants = {
        render(s["Resource"]): sorted([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        for s in statements
        if render(s["Resource"]).endswith("/*")
    }
    assert object_grants == {
        # cdk.json's @aws-cdk/core:enablePartitionLiterals writes the partition of the stack's Region
        f"arn:aws:s3:::{bucket}/datasets/*": ["s3:GetObject"],
        f"arn:aws:s3:::{bucket}/checkpoints/*": sorted(
            ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts", "s3:GetObject"]
        ),
    }
    key_resources = {
        s["Resource"] for s in statements if s["Action"] == "kms:Decrypt" or "kms:Decrypt" in s["Action"]
    }
    assert key_resources == {PRODUCTION.data_key_arn}


# -- feature flags -----------------------------------------------------------------------------------------


def test_cdk_json_is_what_cdk_init_writes():
    from pathlib import Path

    from tests.conftest import CDK_INIT_CDK_JSON

    app_dir = Path(__file__).resolve().parents[1]
    assert json.loads((app_dir / "cdk.json").read_text()) == json.loads(CDK_INIT_CDK_JSON.read_text())


def test_same_identity_and_encrypted_logs_under_both_flag_sets(company_app, company_app_no_flags):
    from tests._identity import identity_differences, log_group_problems

    assert identity_differences(company_app_no_flags, company_app) == []
    for synthesized in (company_app, company_app_no_flags):
        assert log_group_problems(synthesized.templates) == []


def test_the_compliance_packs_ran_and_every_acknowledgment_is_scoped(company_app):
    assert nag_pack_names(company_app.outdir) == ["AwsSolutions", "HIPAA.Security", "NIST.800.53.R5"]
    assert acknowledgment_problems(company_app.outdir) == []

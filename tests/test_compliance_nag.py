"""Compliance packs as gates on the reference platforms: cdk-nag AwsSolutions, NIST 800-53 rev 5 and HIPAA Security
run in the one synthesis of the session (tests/conftest.py), with zero unacknowledged findings
(tests/test_reference_gates.py); here: every acknowledgment is scoped to its resource and finding and gives a reason
that says what is true of the template."""

from __future__ import annotations

from typing import Any

import pytest

from eks_ai_data._nag import nag_flatten
from eks_ai_data.kubectl import KUBECTL_HANDLER_POLICIES, KUBECTL_PUBLIC_ECR_POLICY
from eks_ai_data.labels import PROTECTED_TAG_KEY
from tests._gates import acknowledgment_problems, nag_acknowledgments, nag_pack_names

#: Each reference platform's (data stack, cluster stack).
PLATFORMS = {
    "training": ("EksAiDataTrainingData", "EksAiDataTrainingBlue"),
    "inference": ("EksAiDataInferenceData", "EksAiDataInferenceBlue"),
}
CLUSTER_STACKS = [cluster for _, cluster in PLATFORMS.values()]
#: The NIST 800-53 / HIPAA rules the library acknowledges on the reference platforms, each for a reason given where it
#: is acknowledged (constructs/eks_ai_data/_nag.py, kubectl.py, network.py, bucket.py). A new one is a deliberate act.
COMPLIANCE_ACKNOWLEDGED = {
    "IAMNoInlinePolicy",  # one role's own statements (the IAM user guide's case for inline policies)
    "LambdaConcurrency",  # aws-cdk-lib's kubectl provider: runs only during deployments
    "LambdaDLQ",  # kubectl provider: synchronous handler; ASG-tags handler answers CloudFormation on every path
    "LambdaInsideVPC",  # ASG-tags handler: reaches only AWS APIs, works without NAT or endpoints
    "S3BucketReplicationEnabled",  # opt-in: the destination lives in another Region
    "S3DefaultEncryptionKMS",  # server access log buckets: S3 supports SSE-S3 only there
    "VPCNoUnrestrictedRouteToIGW",  # public subnets' route: the NAT gateways' egress
}


def _resource(template: dict[str, Any], type_: str, **properties: Any) -> list[tuple[str, dict[str, Any]]]:
    return [
        (lid, r)
        for lid, r in template["Resources"].items()
        if r["Type"] == type_ and all(r.get("Properties", {}).get(k) == v for k, v in properties.items())
    ]


def test_the_three_packs_run_in_the_same_synthesis(reference):
    assert nag_pack_names(reference.outdir) == ["AwsSolutions", "HIPAA.Security", "NIST.800.53.R5"]
    assert reference.nag_findings == []


def test_every_acknowledgment_is_scoped_to_its_resource_and_says_why(reference):
    assert acknowledgment_problems(reference.outdir) == []


def test_the_compliance_acknowledgments_are_the_documented_ones(reference):
    rules = {
        a.rule.split("-", 1)[1]
        for a in nag_acknowledgments(reference.outdir)
        if a.pack in ("NIST.800.53.R5", "HIPAA.Security")
    }
    assert rules == COMPLIANCE_ACKNOWLEDGED
    # both compliance packs see the same acknowledgments (same rule names, same resources)
    by_pack = {
        pack: sorted(
            (a.rule.split("-", 1)[1], a.resource)
            for a in nag_acknowledgments(reference.outdir)
            if a.pack == pack
        )
        for pack in ("NIST.800.53.R5", "HIPAA.Security")
    }
    assert by_pack["NIST.800.53.R5"] == by_pack["HIPAA.Security"]


@pytest.mark.parametrize("stack", CLUSTER_STACKS)
def test_the_fsx_driver_wildcard_reasons_name_every_action_the_policy_allows_there(reference, stack):
    template = reference.template(stack)
    ((role_id, _),) = [
        (lid, r)
        for lid, r in _resource(template, "AWS::IAM::Role")
        if r["Properties"].get("Description", "").startswith("aws-fsx-csi-driver")
    ]
    ((_, policy),) = [
        (lid, p)
        for lid, p in _resource(template, "AWS::IAM::Policy")
        if {"Ref": role_id} in p["Properties"]["Roles"]
    ]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    reasons = {
        a.rule.split("[Resource::", 1)[1][:-1]: a.reason
        for a in nag_acknowledgments(reference.outdir)
        if a.rule.startswith("AwsSolutions-IAM5[Resource::")
        and f"/{stack}/InCluster/Drivers/Role-aws-fsx" in f"/{a.resource}"
    }
    wildcards = 0
    for statement in statements:
        if statement["Effect"] != "Allow":
            continue
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        for resource in resources:
            text = nag_flatten(resource)
            if "*" not in text:
                continue
            wildcards += 1
            assert text in reasons, f"no IAM5 acknowledgment for {text}"
            for action in actions:
                assert action in reasons[text], f"the reason for {text} does not say it allows {action}"
    assert (
        wildcards == 4
    )  # Describe on *, create/tag and update/delete on file-system/*, the service-linked role
    # the reason for file-system/* claims a Deny protects the platform's file systems: the Deny is there
    (file_systems,) = [r for r in reasons if r.endswith(":file-system/*")]
    assert PROTECTED_TAG_KEY in reasons[file_systems]
    assert "TagResource to creation" in reasons[file_systems]  # the residual risk is stated, not hidden
    (deny,) = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Null": {f"aws:ResourceTag/{PROTECTED_TAG_KEY}": "false"}}
    assert sorted(deny["Action"]) == sorted(
        ["fsx:TagResource", "fsx:UntagResource", "fsx:UpdateFileSystem", "fsx:DeleteFileSystem"]
    )


@pytest.mark.parametrize("stack", CLUSTER_STACKS)
def test_the_kubectl_provider_managed_policy_reasons_name_the_policy_and_its_purpose(reference, stack):
    acks = [
        a
        for a in nag_acknowledgments(reference.outdir)
        if a.rule.startswith("AwsSolutions-IAM4")
        and a.resource.startswith(f"{stack}/Platform/Cluster/KubectlProvider/")
    ]
    attached = set()
    for ack in acks:
        names = [n.rsplit("/", 1)[-1] for n in [*KUBECTL_HANDLER_POLICIES, KUBECTL_PUBLIC_ECR_POLICY]]
        (name,) = [n for n in names if n in ack.rule]
        attached.add(name)
        assert name in ack.reason
        if "ContainerRegistry" in name:
            assert "helm" in ack.reason and "OCI" in ack.reason
    handler_roles = [
        r
        for _, r in _resource(reference.template(stack), "AWS::IAM::Role")
        if any(
            "AmazonEC2ContainerRegistryReadOnly" in str(arn)
            for arn in r["Properties"].get("ManagedPolicyArns", [])
        )
    ]
    assert len(handler_roles) == 1  # the ECR policies are on the kubectl handler's role, nowhere else
    assert attached == {
        "AWSLambdaBasicExecutionRole",
        "AWSLambdaVPCAccessExecutionRole",
        "AmazonEC2ContainerRegistryReadOnly",
        KUBECTL_PUBLIC_ECR_POLICY,
    }


@pytest.mark.parametrize("platform", PLATFORMS)
def test_public_subnets_assign_no_public_ip_and_hold_only_nat_gateways(reference, platform):
    data, cluster = PLATFORMS[platform]
    template = reference.template(data)
    subnets = _resource(template, "AWS::EC2::Subnet")
    public = {
        lid
        for lid, s in subnets
        if {"Key": "aws-cdk:subnet-type", "Value": "Public"} in s["Properties"].get("Tags", [])
    }
    assert public and all(
        template["Resources"][lid]["Properties"]["MapPublicIpOnLaunch"] is False for lid in public
    )
    nat_subnets = {r["Properties"]["SubnetId"]["Ref"] for _, r in _resource(template, "AWS::EC2::NatGateway")}
    assert nat_subnets == public
    # what the acknowledged internet route serves: nothing of the platform is placed in those subnets, in either
    # stack (the cluster stack's subnet references are imports of the data stack's subnets, resolved here)
    placed = [
        str(reference.unimport(r["Properties"]))
        for stack in (data, cluster)
        for r in reference.template(stack)["Resources"].values()
        if r["Type"]
        in ("AWS::EKS::Nodegroup", "AWS::EKS::Cluster", "AWS::EFS::MountTarget", "AWS::FSx::FileSystem")
    ]
    assert {"AWS::EKS::Nodegroup", "AWS::EKS::Cluster"} <= {
        r["Type"] for r in reference.template(cluster)["Resources"].values()
    }
    private = {lid for lid, _ in subnets} - public
    assert placed and all(any(lid in text for lid in private) for text in placed)
    assert not any(lid in text for lid in public for text in placed)

"""The support-rule table holds for every template of the reference platforms, and each rule can fail."""

from __future__ import annotations

import copy

import pytest

from tests.platform.support_rules import RULES, problems


def test_reference_platforms_follow_every_support_rule(reference):
    assert problems(reference.templates) == []


def _mutated(reference, stack, type_, mutate):
    templates = copy.deepcopy(reference.templates)
    resources = templates[stack]["Resources"]
    (lid,) = [k for k, v in resources.items() if v["Type"] == type_][:1]
    mutate(resources[lid]["Properties"], resources)
    return templates


def _manifest_mutation(change):
    def mutate(props, resources):
        for resource in resources.values():
            if resource["Type"] != "Custom::AWSCDK-EKS-KubernetesResource":
                continue
            manifest = resource["Properties"]["Manifest"]
            if isinstance(manifest, str) and change[0] in manifest:
                resource["Properties"]["Manifest"] = manifest.replace(*change)
                return
            if isinstance(manifest, dict):
                parts = manifest["Fn::Join"][1]
                for i, part in enumerate(parts):
                    if isinstance(part, str) and change[0] in part:
                        parts[i] = part.replace(*change)
                        return
        raise AssertionError(f"no manifest holds {change[0]!r}")

    return mutate


TRAINING = "EksAiDataTraining"
BAD = {
    "lustre-throughput": (
        "AWS::FSx::FileSystem",
        lambda p, r: p["LustreConfiguration"].update(PerUnitStorageThroughput=200),
    ),
    "lustre-capacity": ("AWS::FSx::FileSystem", lambda p, r: p.update(StorageCapacity=3600)),
    "lustre-associations": ("AWS::FSx::FileSystem", lambda p, r: p.update(FileSystemTypeVersion="2.10")),
    "linked-lustre-no-backups": (
        "AWS::FSx::FileSystem",
        lambda p, r: p["LustreConfiguration"].update(AutomaticBackupRetentionDays=7),
    ),
    "pod-identity": (
        "AWS::EKS::Addon",
        lambda p, r: next(
            a
            for a in r.values()
            if a["Type"] == "AWS::EKS::Addon" and a["Properties"]["AddonName"] == "aws-efs-csi-driver"
        )["Properties"].update(
            PodIdentityAssociations=[{"ServiceAccount": "efs-csi-node-sa", "RoleArn": "x"}]
        ),
    ),
    "nodegroup-labels": ("AWS::EKS::Nodegroup", lambda p, r: p["Labels"].update({"a" * 64: "x"})),
    "capacity-blocks": ("AWS::EKS::Nodegroup", lambda p, r: p.update(CapacityType="CAPACITY_BLOCK")),
    "efa-one-subnet": (
        "AWS::EKS::Nodegroup",
        lambda p, r: [
            g["Properties"]["Subnets"].append("subnet-0123456789abcdef0")
            for g in r.values()
            if g["Type"] == "AWS::EKS::Nodegroup"
            and g["Properties"].get("LaunchTemplate")
            and "efa" in str(r[g["Properties"]["LaunchTemplate"]["Id"]["Ref"]])
        ],
    ),
    "static-volumes-retain": (
        "AWS::EKS::Cluster",
        _manifest_mutation(
            ('"persistentVolumeReclaimPolicy":"Retain"', '"persistentVolumeReclaimPolicy":"Delete"')
        ),
    ),
    "efs-mount-options": (
        "AWS::EKS::Cluster",
        _manifest_mutation(('"encryptInTransit":"true"', '"encryptInTransit":"false"')),
    ),
    "gp3-limits": ("AWS::EKS::Cluster", _manifest_mutation(('"type":"gp3"', '"type":"gp3","iops":"100"'))),
}


@pytest.mark.parametrize("rule", [r.name for r in RULES])
def test_each_rule_catches_its_violation(reference, rule):
    type_, mutate = BAD[rule]
    found = problems(_mutated(reference, TRAINING, type_, mutate))
    assert [p for p in found if p.startswith(f"{rule} ")], found

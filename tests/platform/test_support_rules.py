"""The support-rule table holds for every template of the reference platforms, and each rule can fail."""

from __future__ import annotations

import copy

import pytest

from tests.platform.cfn_templates import REFERENCE_PLATFORMS
from tests.platform.support_rules import RULES, problems


def test_reference_platforms_follow_every_support_rule(reference):
    assert problems(reference.templates) == []


def _mutated(reference, stacks, type_, mutate):
    """The templates with the first ``type_`` resource of the platform's ``stacks`` (the first stack that has one:
    file systems in the data stack, node groups, add-ons and manifests in the cluster stack) mutated."""
    templates = copy.deepcopy(reference.templates)
    stack = next(s for s in stacks if any(v["Type"] == type_ for v in templates[s]["Resources"].values()))
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


TRAINING = REFERENCE_PLATFORMS["training"]
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
    found = problems(_mutated(reference, TRAINING.stacks, type_, mutate))
    assert [p for p in found if p.startswith(f"{rule} ")], found


def _lustre_export(templates, data_stack):
    """The export of the data stack's Lustre file system id (what a cluster stack imports)."""
    lustre = next(
        k for k, v in templates[data_stack]["Resources"].items() if v["Type"] == "AWS::FSx::FileSystem"
    )
    (name,) = [
        o["Export"]["Name"]
        for o in templates[data_stack]["Outputs"].values()
        if "Export" in o and o["Value"] == {"Ref": lustre}
    ]
    return lustre, name


def test_a_cluster_stacks_backup_selection_of_the_linked_lustre_is_caught(reference):
    """The cluster stack holds a backup selection of the data stack's plan (its EKS cluster): one naming the data
    stack's linked file system through an import breaks the rule as much as one in the data stack."""
    templates = copy.deepcopy(reference.templates)
    lustre, export = _lustre_export(templates, TRAINING.data)
    cluster = templates[TRAINING.cluster]["Resources"]
    (selection,) = [v for v in cluster.values() if v["Type"] == "AWS::Backup::BackupSelection"]
    fs_arn = {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":fsx:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                ":file-system/",
                {"Fn::ImportValue": export},
            ],
        ]
    }
    selection["Properties"]["BackupSelection"]["Resources"].append(fs_arn)
    found = problems(templates)
    assert (
        f"linked-lustre-no-backups {TRAINING.data}: {lustre}: linked to S3 but selected by an AWS Backup plan"
        in (found)
    ), found


def test_an_association_in_another_stack_is_checked_against_its_file_system(reference):
    """A data repository association of an imported file system (in a cluster stack) is held to the file system's
    own deployment type and version."""
    templates = copy.deepcopy(reference.templates)
    lustre, export = _lustre_export(templates, TRAINING.data)
    data = templates[TRAINING.data]["Resources"]
    data[lustre]["Properties"]["FileSystemTypeVersion"] = "2.10"
    (link_id, link) = next(
        (k, v) for k, v in data.items() if v["Type"] == "AWS::FSx::DataRepositoryAssociation"
    )
    moved = copy.deepcopy(link)
    moved["Properties"]["FileSystemId"] = {"Fn::ImportValue": export}
    del data[link_id]
    templates[TRAINING.cluster]["Resources"]["MovedLink"] = moved
    found = problems(templates)
    assert (
        f"lustre-associations {TRAINING.data}: {TRAINING.cluster}/MovedLink: association on {lustre}, which FSx does "
        "not support them on"
    ) in found, found

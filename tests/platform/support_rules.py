"""The AWS, EKS and driver rules the platform relies on, as a table in code, each with its source, checked against
every synthesized template (:func:`problems`).

A rule reads one template (and the Kubernetes objects its cluster applies) and returns what breaks it. The rules are
written from the documentation, independently of the constructs that are meant to follow them, so a construct that
drifts from what AWS accepts or what a driver does fails here even when its own unit tests still pass.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from tests.platform.cfn_templates import Templates
from tests.platform.k8s_model import MANIFEST


@dataclass(frozen=True)
class SupportRule:
    name: str
    source: str
    check: Callable[[Templates, str], Iterator[str]]


def _resources(model: Templates, stack: str, type_: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for s, lid in model.resources(type_, stack):
        yield lid, model._resolve(s, model._resources[(s, lid)].properties)


def _everywhere(model: Templates, type_: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """``(stack, logical id, resolved properties)`` of every resource of ``type_`` in every template."""
    for s, lid in model.resources(type_):
        yield s, lid, model._resolve(s, model._resources[(s, lid)].properties)


def _where(stack: str, other: str, lid: str) -> str:
    """A resource's logical id, prefixed with its stack when it is not the stack being checked."""
    return lid if other == stack else f"{other}/{lid}"


def _objects(model: Templates, stack: str) -> Iterator[dict[str, Any]]:
    for _, props in _resources(model, stack, MANIFEST):
        yield from json.loads(props["Manifest"])


# -- FSx for Lustre ----------------------------------------------------------------------------------------
#: CreateFileSystemLustreConfiguration.PerUnitStorageThroughput (FSx API reference): MB/s per TiB per deployment
#: and storage type; scratch types take none.
LUSTRE_THROUGHPUT = {
    ("PERSISTENT_1", "SSD"): {50, 100, 200},
    ("PERSISTENT_1", "HDD"): {12, 40},
    ("PERSISTENT_2", "SSD"): {125, 250, 500, 1000},
}


def _lustre_throughput(model: Templates, stack: str) -> Iterator[str]:
    for lid, props in _resources(model, stack, "AWS::FSx::FileSystem"):
        config = props.get("LustreConfiguration", {})
        key = (config.get("DeploymentType", "SCRATCH_1"), props.get("StorageType", "SSD"))
        value = config.get("PerUnitStorageThroughput")
        allowed = LUSTRE_THROUGHPUT.get(key)
        if allowed is None and value is not None:
            yield f"{lid}: {key[0]} takes no PerUnitStorageThroughput ({value})"
        elif allowed is not None and value not in allowed:
            yield f"{lid}: {key} PerUnitStorageThroughput {value} not in {sorted(allowed)}"


def _lustre_capacity(model: Templates, stack: str) -> Iterator[str]:
    """FSx for Lustre user guide, "Storage capacity": SSD PERSISTENT_1/PERSISTENT_2/SCRATCH_2 take 1200, 2400 or a
    multiple of 2400 GiB; SCRATCH_1 1200, 2400 or a multiple of 3600 GiB."""
    for lid, props in _resources(model, stack, "AWS::FSx::FileSystem"):
        deployment = props.get("LustreConfiguration", {}).get("DeploymentType", "SCRATCH_1")
        capacity = int(props["StorageCapacity"])
        step = 3600 if deployment == "SCRATCH_1" else 2400
        if props.get("StorageType", "SSD") == "SSD" and capacity not in (1200, 2400) and capacity % step:
            yield f"{lid}: StorageCapacity {capacity} is not 1200, 2400 or a multiple of {step}"


def _associations_supported(model: Templates, stack: str) -> Iterator[str]:
    """ "Data repository associations are supported on all FSx for Lustre 2.12 and 2.15 file systems, excluding
    scratch_1 deployment type" (FSx API reference, CreateDataRepositoryAssociation); at most 8 per file system.
    The associations of this stack's file systems are looked up in every stack (one may link an imported one)."""
    file_systems = {
        model.ref(stack, lid): (lid, props) for lid, props in _resources(model, stack, "AWS::FSx::FileSystem")
    }
    counts: dict[str, int] = {}
    for s, lid, props in _everywhere(model, "AWS::FSx::DataRepositoryAssociation"):
        if props["FileSystemId"] not in file_systems:
            continue
        owner, fs = file_systems[props["FileSystemId"]]
        counts[owner] = counts.get(owner, 0) + 1
        if fs.get("LustreConfiguration", {}).get("DeploymentType") == "SCRATCH_1" or fs.get(
            "FileSystemTypeVersion"
        ) not in ("2.12", "2.15"):
            yield f"{_where(stack, s, lid)}: association on {owner}, which FSx does not support them on"
        if not str(props["DataRepositoryPath"]).startswith("s3://"):
            yield f"{_where(stack, s, lid)}: DataRepositoryPath must be s3://..."
        if not 1 <= int(props.get("ImportedFileChunkSize", 1024)) <= 512000:
            yield f"{_where(stack, s, lid)}: ImportedFileChunkSize outside 1-512000 MiB"
    yield from (f"{fs}: {n} associations (at most 8)" for fs, n in counts.items() if n > 8)


def _linked_lustre_not_backed_up(model: Templates, stack: str) -> Iterator[str]:
    """ "File system backups aren't supported on file systems that are linked to an Amazon S3 data repository"
    (FSx for Lustre user guide, Working with backups): no automatic backups and no AWS Backup selection, in any
    stack (a cluster stack's selection may name a data stack's file system through an import)."""
    linked = {
        props["FileSystemId"] for _, _, props in _everywhere(model, "AWS::FSx::DataRepositoryAssociation")
    }
    selected = json.dumps([props for _, _, props in _everywhere(model, "AWS::Backup::BackupSelection")])
    for lid, props in _resources(model, stack, "AWS::FSx::FileSystem"):
        fs_id = model.ref(stack, lid)
        config = props.get("LustreConfiguration", {})
        if fs_id in linked or config.get("ImportPath"):
            if int(config.get("AutomaticBackupRetentionDays", 0)):
                yield f"{lid}: linked to S3 but has automatic backups"
            if model.arn(stack, lid) in selected:
                yield f"{lid}: linked to S3 but selected by an AWS Backup plan"


# -- EKS ------------------------------------------------------------------------------------------------
#: Service accounts each add-on declares (the only ones its PodIdentityAssociations may name; EKS user guide "Pod
#: Identity with add-ons", aws-efs-csi-driver issue 1759), written out here.
ADDON_SERVICE_ACCOUNTS = {
    "aws-ebs-csi-driver": {"ebs-csi-controller-sa"},
    "aws-efs-csi-driver": {"efs-csi-controller-sa"},
    "aws-fsx-csi-driver": {"fsx-csi-controller-sa"},
    "aws-mountpoint-s3-csi-driver": set(),
    "snapshot-controller": set(),
    "vpc-cni": {"aws-node"},
}


def _pod_identity(model: Templates, stack: str) -> Iterator[str]:
    """An add-on's associations name only declared service accounts, and no service account is associated twice
    (EKS answers 409 ResourceInUseException)."""
    seen: dict[tuple[str, str], str] = {}
    for lid, props in _resources(model, stack, "AWS::EKS::Addon"):
        declared = ADDON_SERVICE_ACCOUNTS.get(props["AddonName"])
        for association in props.get("PodIdentityAssociations", []):
            account = association["ServiceAccount"]
            if declared is not None and account not in declared:
                yield f"{lid}: {props['AddonName']} does not declare {account}"
            key = ("kube-system", account)
            if key in seen:
                yield f"{lid}: {account} associated twice ({seen[key]})"
            seen[key] = lid
    for lid, props in _resources(model, stack, "AWS::EKS::PodIdentityAssociation"):
        key = (props["Namespace"], props["ServiceAccount"])
        if key in seen:
            yield f"{lid}: {key} associated twice ({seen[key]})"
        seen[key] = lid


def _nodegroup_labels(model: Templates, stack: str) -> Iterator[str]:
    """EKS CreateNodegroup: label keys and values 1-63 characters; at most 50 taints (EKS API reference)."""
    for lid, props in _resources(model, stack, "AWS::EKS::Nodegroup"):
        for key, value in props.get("Labels", {}).items():
            if not 1 <= len(key) <= 63 or not 1 <= len(str(value)) <= 63:
                yield f"{lid}: label {key}={value} outside EKS's 1-63 characters"
        if len(props.get("Taints", [])) > 50:
            yield f"{lid}: more than 50 taints"


def _capacity_blocks(model: Templates, stack: str) -> Iterator[str]:
    """EKS user guide, "Create a managed node group with Capacity Blocks for ML": CAPACITY_BLOCK needs a launch
    template with InstanceMarketOptions MarketType capacity-block and a capacity reservation target, one instance
    type, and subnets in the reservation's single Availability Zone."""
    templates = dict(_resources(model, stack, "AWS::EC2::LaunchTemplate"))
    for lid, props in _resources(model, stack, "AWS::EKS::Nodegroup"):
        if props.get("CapacityType") != "CAPACITY_BLOCK":
            continue
        lt = next(
            (
                t
                for k, t in templates.items()
                if model.ref(stack, k) == props.get("LaunchTemplate", {}).get("Id")
            ),
            None,
        )
        data = (lt or {}).get("LaunchTemplateData", {})
        if data.get("InstanceMarketOptions", {}).get("MarketType") != "capacity-block":
            yield f"{lid}: CAPACITY_BLOCK without a capacity-block launch template"
        if "CapacityReservationTarget" not in data.get("CapacityReservationSpecification", {}):
            yield f"{lid}: CAPACITY_BLOCK without a capacity reservation target"
        if len(props.get("InstanceTypes", [])) != 1:
            yield f"{lid}: a capacity block reserves one instance type"
        if len(props.get("Subnets", [])) != 1:
            yield f"{lid}: a capacity block lives in one Availability Zone (one subnet)"


def _efa_one_subnet(model: Templates, stack: str) -> Iterator[str]:
    """EC2 user guide, EFA: instances communicating over EFA must be in the same subnet (and a cluster placement
    group for low latency); every EFA interface names its security groups in the launch template."""
    templates = dict(_resources(model, stack, "AWS::EC2::LaunchTemplate"))
    for lid, props in _resources(model, stack, "AWS::EKS::Nodegroup"):
        lt_id = props.get("LaunchTemplate", {}).get("Id")
        data = next((t for k, t in templates.items() if model.ref(stack, k) == lt_id), {}).get(
            "LaunchTemplateData", {}
        )
        efa = [i for i in data.get("NetworkInterfaces", []) if i.get("InterfaceType") == "efa"]
        if efa:
            if len(props["Subnets"]) != 1:
                yield f"{lid}: EFA node group spans {len(props['Subnets'])} subnets"
            if not data.get("Placement", {}).get("GroupName"):
                yield f"{lid}: EFA node group without a placement group"
            if any(not i.get("Groups") for i in efa):
                yield f"{lid}: an EFA interface without security groups"


# -- Kubernetes and the CSI drivers ---------------------------------------------------------------------------
def _static_volumes_retain(model: Templates, stack: str) -> Iterator[str]:
    """external-provisioner deletes the backing storage of a released PersistentVolume of its driver whose reclaim
    policy is Delete, static ones included (the EFS driver deletes the access point, the FSx driver the file
    system): static volumes of existing storage must be Retain."""
    for obj in _objects(model, stack):
        if obj["kind"] == "PersistentVolume" and obj["spec"].get("persistentVolumeReclaimPolicy") != "Retain":
            yield f"PersistentVolume {obj['metadata']['name']} is not Retain"


def _efs_options(model: Templates, stack: str) -> Iterator[str]:
    """efs-utils refuses ``iam`` without ``tls`` (The "tls" option is required when mounting via "iam"); the EFS
    CSI driver rejects volume attributes other than encryptInTransit, mounttargetip, mounttargetipmap, crossaccount
    (aws-efs-csi-driver pkg/driver/node.go)."""
    allowed = {"encryptInTransit", "mounttargetip", "mounttargetipmap", "crossaccount"}
    for obj in _objects(model, stack):
        if obj["kind"] != "PersistentVolume" or obj["spec"].get("csi", {}).get("driver") != "efs.csi.aws.com":
            continue
        attributes = obj["spec"]["csi"].get("volumeAttributes", {})
        if set(attributes) - allowed:
            yield f"PersistentVolume {obj['metadata']['name']}: unsupported attributes {set(attributes) - allowed}"
        if "iam" in obj["spec"].get("mountOptions", []) and attributes.get("encryptInTransit") == "false":
            yield f"PersistentVolume {obj['metadata']['name']}: iam without tls"


def _gp3_limits(model: Templates, stack: str) -> Iterator[str]:
    """Amazon EBS volume types: gp3 takes 3,000-80,000 IOPS and 125-2,000 MiB/s, at most 0.25 MiB/s per IOPS."""
    for obj in _objects(model, stack):
        if obj["kind"] != "StorageClass" or obj.get("provisioner") != "ebs.csi.aws.com":
            continue
        params = obj.get("parameters", {})
        iops = int(params.get("iops", 3000))
        throughput = int(params.get("throughput", 125))
        if not 3000 <= iops <= 80000 or not 125 <= throughput <= 2000 or throughput > iops * 0.25:
            yield f"StorageClass {obj['metadata']['name']}: gp3 iops {iops} / throughput {throughput}"


RULES: tuple[SupportRule, ...] = (
    SupportRule("lustre-throughput", "FSx API: CreateFileSystemLustreConfiguration", _lustre_throughput),
    SupportRule("lustre-capacity", "FSx for Lustre user guide: Storage capacity", _lustre_capacity),
    SupportRule("lustre-associations", "FSx API: CreateDataRepositoryAssociation", _associations_supported),
    SupportRule(
        "linked-lustre-no-backups",
        "FSx for Lustre user guide: Working with backups",
        _linked_lustre_not_backed_up,
    ),
    SupportRule("pod-identity", "EKS user guide: Pod Identity with add-ons", _pod_identity),
    SupportRule("nodegroup-labels", "EKS API: CreateNodegroup", _nodegroup_labels),
    SupportRule("capacity-blocks", "EKS user guide: Capacity Blocks for ML", _capacity_blocks),
    SupportRule("efa-one-subnet", "EC2 user guide: Elastic Fabric Adapter", _efa_one_subnet),
    SupportRule("static-volumes-retain", "kubernetes-csi external-provisioner", _static_volumes_retain),
    SupportRule("efs-mount-options", "aws-efs-csi-driver node.go; efs-utils", _efs_options),
    SupportRule("gp3-limits", "Amazon EBS user guide: volume types", _gp3_limits),
)


def problems(templates: Mapping[str, Mapping[str, Any]], **kwargs: Any) -> list[str]:
    """Every rule's problems in every template, as ``"<rule> <stack>: <problem>"``."""
    model = Templates(templates, **kwargs)
    return [
        f"{rule.name} {stack}: {problem}"
        for stack in templates
        for rule in RULES
        for problem in rule.check(model, stack)
    ]

"""LustreStore.from_existing (ImportedLustreStore): an FSx for Lustre file system created elsewhere serves the
patterns through the ILustreStore interface; nothing of the file system itself is created, and bad descriptions are
refused with clear messages. The app uses the public API only and is synthesized once (module fixture)."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_fsx as fsx
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from eks_ai_data import (
    ClusterAutoscaler,
    ClusterStorage,
    DataBackupPlan,
    DataRepositoryLink,
    DistributedDataset,
    EksAiDataValidationError,
    ILustreStore,
    ImportedLustreStore,
    LustreStore,
    ModelRepository,
    NvmeNodeGroup,
    TrainingCheckpoints,
)
from tests._existing import ENV, FS_SG, NODE_SG, OTHER_SG, ZONES, existing_cluster
from tests._gates import cfn_lint_errors
from tests.conftest import Synthesized, synthesize
from tests.k8s.k8s_support import validate
from tests.platform.k8s_model import GPU, ClusterModel, Pod

FS_ID = "fs-0123456789abcdef0"
DNS = f"{FS_ID}.fsx.us-east-1.amazonaws.com"
MOUNT = "abcdef12"
MODELS_FS = "fs-0fedcba9876543210"
MODELS_MOUNT = "zyxw9876"
SUBNETS = list(ZONES)
FS_SUBNET = SUBNETS[1]  # not the cluster's first private subnet: the pattern must take the store's


def _file_system(stack: cdk.Stack, id: str = "Fs", fs_id: str = FS_ID) -> fsx.IFileSystem:
    return fsx.LustreFileSystem.from_lustre_file_system_attributes(
        stack,
        id,
        file_system_id=fs_id,
        dns_name=f"{fs_id}.fsx.us-east-1.amazonaws.com",
        security_group=ec2.SecurityGroup.from_security_group_id(stack, f"{id}Sg", FS_SG),
    )


def _subnet(stack: cdk.Stack, id: str = "FsSubnet") -> ec2.ISubnet:
    return ec2.Subnet.from_subnet_attributes(
        stack, id, subnet_id=FS_SUBNET, availability_zone=ZONES[FS_SUBNET]
    )


def _bucket(stack: cdk.Stack) -> s3.IBucket:
    return s3.Bucket.from_bucket_name(stack, "Datasets", "research-datasets")


def _store(stack: cdk.Stack, id: str = "Lustre", **props: Any) -> ImportedLustreStore:
    defaults: dict[str, Any] = {
        "file_system": props.pop("file_system", None) or _file_system(stack, f"{id}Fs"),
        "dns_name": DNS,
        "mount_name": MOUNT,
        "subnet": props.pop("subnet", None) or _subnet(stack, f"{id}Subnet"),
        "storage_capacity_gib": 2400,
        "deployment_type": fsx.LustreDeploymentType.PERSISTENT_2,
    }
    if "links" not in props:
        defaults["links"] = [
            DataRepositoryLink(file_system_path="/datasets", bucket=_bucket(stack), prefix="raw/")
        ]
    return LustreStore.from_existing(stack, id, **{**defaults, **props})


def _build(app: cdk.App) -> None:
    stack = cdk.Stack(app, "Training", env=ENV)
    cluster = existing_cluster(stack)
    storage = ClusterStorage(stack, "InCluster", cluster=cluster, namespaces=["training", "inference"])
    lustre = _store(stack)
    DistributedDataset(
        stack,
        "Dataset",
        cluster=cluster,
        storage=storage,
        namespace="training",
        gpu_instance_types=["g6e.12xlarge"],
        lustre=lustre,
        file_system_path="/datasets",
    )
    ClusterAutoscaler(stack, "Autoscaler", cluster=cluster, identity="irsa")  # scales the GPU group from zero
    nvme = NvmeNodeGroup(stack, "Nvme", cluster=cluster, instance_types=["i4i.8xlarge"], mode="ephemeral")
    TrainingCheckpoints(  # exports /checkpoints: a new association on the existing file system
        stack,
        "Checkpoints",
        cluster=cluster,
        storage=storage,
        namespace="training",
        scratch_node_groups=[nvme],
        lustre=lustre,
    )
    models = s3.Bucket.from_bucket_name(stack, "ModelBucket", "research-models")
    models_lustre = _store(
        stack,
        "ModelsLustre",
        file_system=_file_system(stack, "ModelsFs", MODELS_FS),
        dns_name=f"{MODELS_FS}.fsx.us-east-1.amazonaws.com",
        mount_name=MODELS_MOUNT,
        links=[DataRepositoryLink(file_system_path="/models", bucket=models, prefix="models/")],
    )
    ModelRepository(
        stack,
        "Models",
        cluster=cluster,
        storage=storage,
        namespace="inference",
        cache="lustre",
        lustre=models_lustre,
        model_bucket=models,
    )
    # the key is not this app's (README, "Before you deploy": its policy lets FSx's S3 role use it)
    cdk.Annotations.of(lustre).acknowledge_warning(
        "eks-ai-data:LustreBucketKeyPolicy", "set by the security team"
    )


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(_build, tmp_path_factory.mktemp("lustre-import"))


def _of(synth: Synthesized, type_: str) -> dict[str, dict[str, Any]]:
    return synth.resources("Training", type_)


def test_gates(synth):
    assert synth.nag_findings == []
    assert cfn_lint_errors(synth.template("Training")) == []


def test_no_file_system_is_created_and_nothing_of_it_is_retained_or_tagged(synth):
    assert _of(synth, "AWS::FSx::FileSystem") == {}
    assert _of(synth, "AWS::EC2::SecurityGroup") == {}  # the file system's group is the one it has
    ((association,),) = [list(_of(synth, "AWS::FSx::DataRepositoryAssociation").values())]
    props = association["Properties"]
    assert props["FileSystemId"] == FS_ID  # only the checkpoint export is new; /datasets exists already
    assert props["FileSystemPath"] == "/checkpoints"
    assert props["S3"]["AutoExportPolicy"]["Events"] == ["NEW", "CHANGED"]
    manifest = json.loads((synth.outdir / "manifest.json").read_text())
    assert not manifest.get("missing")  # no context lookup


def test_the_static_volume_mounts_the_existing_file_system_in_its_subnet_zone(synth):
    model = ClusterModel(synth.templates, "Training", subnet_zones=ZONES, region="us-east-1")
    for obj in model.objects:
        validate(obj)
    (claim,) = [c for c in model.claims("training") if c["metadata"]["name"] == "datasets"]
    volume = model.volume_of(claim)
    assert volume is not None
    csi = volume["spec"]["csi"]
    assert csi["driver"] == "fsx.csi.aws.com"
    assert csi["volumeHandle"] == FS_ID
    assert csi["volumeAttributes"] == {"dnsname": DNS, "mountname": MOUNT}
    assert volume["spec"]["capacity"]["storage"] == "2400Gi"
    terms = volume["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"]
    assert terms == [
        {
            "matchExpressions": [
                {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["us-east-1b"]}
            ]
        }
    ]
    pod = Pod(
        namespace="training",
        claims=["datasets"],
        requests={GPU: 1},
        tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
    )
    placements = model.feasible(pod)
    assert placements and {p.zone for p in placements} == {"us-east-1b"}


def test_gpu_nodes_land_in_the_file_systems_subnet(synth):
    groups = [g["Properties"] for g in _of(synth, "AWS::EKS::Nodegroup").values()]
    gpu = [g for g in groups if "g6e.12xlarge" in g.get("InstanceTypes", [])]
    assert len(gpu) == 1 and gpu[0]["Subnets"] == [FS_SUBNET]


def test_lustre_traffic_is_admitted_both_ways_between_the_file_system_and_the_nodes(synth):
    def rules(type_: str, peer_key: str) -> set[tuple[str, str, int, int]]:
        return {
            (
                r["Properties"]["GroupId"],
                r["Properties"][peer_key],
                r["Properties"]["FromPort"],
                r["Properties"]["ToPort"],
            )
            for r in _of(synth, type_).values()
            if r["Properties"]["IpProtocol"] == "tcp"
        }

    ingress = rules("AWS::EC2::SecurityGroupIngress", "SourceSecurityGroupId")
    egress = rules("AWS::EC2::SecurityGroupEgress", "DestinationSecurityGroupId")
    for low, high in ((988, 988), (1018, 1023)):
        assert (FS_SG, NODE_SG, low, high) in ingress  # clients reach the file servers
        assert (NODE_SG, FS_SG, low, high) in ingress  # file servers connect to clients
        assert (FS_SG, NODE_SG, low, high) in egress
        assert (NODE_SG, FS_SG, low, high) in egress
    # created in the consuming scope (the pattern: logical ids under Dataset), none under the imported store
    ids = [*_of(synth, "AWS::EC2::SecurityGroupIngress"), *_of(synth, "AWS::EC2::SecurityGroupEgress")]
    lustre = [i for i in ids if "Client" in i and "Lustre" in i]
    # one set for both stores: they share a security group, and EC2 refuses a duplicate rule
    assert len(lustre) == 8 and all(i.startswith("Dataset") for i in lustre)
    for type_ in ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress"):
        props = [
            json.dumps({k: v for k, v in r["Properties"].items() if k != "Description"}, sort_keys=True)
            for r in _of(synth, type_).values()
        ]
        assert len(props) == len(set(props)), f"duplicate {type_}"  # EC2: InvalidPermission.Duplicate


def test_the_model_repository_mounts_its_imported_store(synth):
    model = ClusterModel(synth.templates, "Training", subnet_zones=ZONES, region="us-east-1")
    (claim,) = [c for c in model.claims("inference") if c["metadata"]["name"] == "models"]
    volume = model.volume_of(claim)
    assert volume is not None
    assert volume["spec"]["csi"]["volumeHandle"] == MODELS_FS
    assert volume["spec"]["csi"]["volumeAttributes"] == {
        "dnsname": f"{MODELS_FS}.fsx.us-east-1.amazonaws.com",
        "mountname": MODELS_MOUNT,
    }


def test_both_stores_are_ilustrestores_and_the_imported_one_is_not_created_here():
    stack = cdk.Stack(cdk.App(), "S", env=ENV)
    imported = _store(stack)
    assert isinstance(imported, ILustreStore) and imported.created is False
    vpc = ec2.Vpc(stack, "Net", max_azs=1, nat_gateways=0)
    created = LustreStore(
        stack,
        "Created",
        vpc=vpc,
        subnet=vpc.isolated_subnets[0] if vpc.isolated_subnets else vpc.public_subnets[0],
        node_security_groups=[],
        kms_key=kms.Key(stack, "K"),
    )
    assert isinstance(created, ILustreStore) and created.created is True
    assert imported.links[0].file_system_path == "/datasets" and imported.associations == []
    assert imported.availability_zone == "us-east-1b"
    # admitting the same group twice returns the rules of the first time
    group = ec2.SecurityGroup.from_security_group_id(stack, "Nodes", NODE_SG)
    assert imported.allow_clients(group) == imported.allow_clients(group)
    assert len(imported.allow_clients(group)) == 8  # 2 port ranges x (file system, client) x (in, out)


# -- refused ---------------------------------------------------------------------------------------------------------


def _refused(match: str, **props: Any) -> None:
    stack = cdk.Stack(cdk.App(), "S", env=ENV)
    with pytest.raises(EksAiDataValidationError, match=match) as error:
        _store(stack, **{k: (v(stack) if callable(v) else v) for k, v in props.items()})
    assert "S/Lustre" in str(error.value)


@pytest.mark.parametrize(
    ("props", "match"),
    [
        (
            {"file_system": lambda s: _file_system(s, "Bad", "fs-12345")},
            r"file_system.*fs-12345.*8 to 18 hexadecimal",
        ),
        ({"file_system": lambda s: _file_system(s, "Bad", "fs-0123456789ABCDEF0")}, r"fs-0123456789ABCDEF0"),
        ({"dns_name": "fs-0123456789abcdef0"}, r"dns_name.*fs-0123456789abcdef0.*fsx.<region>.amazonaws.com"),
        (
            {"dns_name": "fs-0fffffffffffffff0.fsx.us-east-1.amazonaws.com"},
            rf"dns_name.*must be the DNS name of {FS_ID}",
        ),
        ({"mount_name": "toolongname"}, r"mount_name.*toolongname.*1 to 8 letters, digits"),
        ({"mount_name": "ab cd"}, r"mount_name.*ab cd.*1 to 8"),
        ({"mount_name": "fsx"}, r"mount_name.*fsx.*only on SCRATCH_1; a PERSISTENT_2 file system"),
        (
            {"mount_name": MOUNT, "deployment_type": fsx.LustreDeploymentType.SCRATCH_1, "links": ()},
            r"mount_name.*must be 'fsx'",
        ),
        (
            {"deployment_type": "PERSISTENT_2"},
            r"deployment_type.*PERSISTENT_2.*must be an fsx.LustreDeploymentType",
        ),
        ({"storage_capacity_gib": 100}, r"storage_capacity_gib.*100.*1200 GiB or more"),
        ({"storage_capacity_gib": "2400"}, r"storage_capacity_gib.*2400.*GiB"),
        (
            {"subnet": lambda s: ec2.Subnet.from_subnet_id(s, "NoZone", FS_SUBNET)},
            r"subnet.*NoZone.*must carry its Availability Zone.*from_subnet_attributes",
        ),
        (
            {
                "links": lambda s: [
                    DataRepositoryLink(file_system_path="/data", bucket=_bucket(s)),
                    DataRepositoryLink(
                        file_system_path="/data/raw",
                        bucket=s3.Bucket.from_bucket_name(s, "Raw", "research-raw"),
                    ),
                ]
            },
            r"links.*/data/raw.*must not overlap",
        ),
        (
            {
                "mount_name": "fsx",
                "deployment_type": fsx.LustreDeploymentType.SCRATCH_1,
                "links": lambda s: [DataRepositoryLink(file_system_path="/data", bucket=_bucket(s))],
            },
            r"links.*/data.*other than SCRATCH_1 \(this file system: SCRATCH_1, Lustre version not given\)",
        ),
    ],
)
def test_a_bad_description_is_refused(props, match):
    _refused(match, **props)


def test_a_file_system_with_two_security_groups_is_refused():
    stack = cdk.Stack(cdk.App(), "S", env=ENV)
    fs = _file_system(stack)
    fs.connections.add_security_group(ec2.SecurityGroup.from_security_group_id(stack, "Other", OTHER_SG))
    with pytest.raises(
        EksAiDataValidationError,
        match=r"S/Lustre.*file_system.*exactly one security group in its connections \(has 2\)",
    ):
        _store(stack, file_system=fs)


def test_the_patterns_refuse_a_bare_fsx_file_system_and_name_from_existing():
    stack = cdk.Stack(cdk.App(), "S", env=ENV)
    cluster = existing_cluster(stack)
    storage = ClusterStorage(stack, "InCluster", cluster=cluster, namespaces=["training"])
    with pytest.raises(
        EksAiDataValidationError, match=r"S/Dataset.*lustre.*describe it with LustreStore.from_existing"
    ):
        DistributedDataset(
            stack,
            "Dataset",
            cluster=cluster,
            storage=storage,
            namespace="training",
            gpu_instance_types=["g6e.12xlarge"],
            lustre=_file_system(stack),  # type: ignore[arg-type]
        )


def test_a_backup_plan_refuses_an_imported_store():
    stack = cdk.Stack(cdk.App(), "S", env=ENV)
    plan = DataBackupPlan(stack, "Backup", backup_key=kms.Key(stack, "BackupKey", enable_key_rotation=True))
    unlinked = _store(stack, "Unlinked", links=())
    for store in (unlinked, _store(stack, "Linked")):  # linked or not: its backups belong to its owner
        with pytest.raises(
            EksAiDataValidationError,
            match=r"S/Backup.*file_system.*imported file system \(LustreStore.from_existing\)",
        ):
            plan.add_lustre(store)  # type: ignore[arg-type]

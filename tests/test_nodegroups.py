"""GpuNodeGroup and NvmeNodeGroup: properties in the reference stack, and every validation rule."""

from __future__ import annotations

import itertools
import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_eks_v2 as eks

from eks_ai_data.cluster import AiCluster
from eks_ai_data.errors import EksAiDataValidationError
from eks_ai_data.labels import GPU_TAINT_KEY, LOCAL_NVME_LABEL
from eks_ai_data.launch_template import al2023_user_data, bottlerocket_user_data, nodeadm_config
from eks_ai_data.nodegroups import GpuNodeGroup, NvmeNodeGroup
from stacks import TRAINING_DATA_STACK, TRAINING_STACK

STACK = TRAINING_STACK  # the node groups; their key is in the data stack
_ids = itertools.count()


@pytest.fixture(scope="module")
def platform() -> AiCluster:
    """An unsynthesized cluster to hang bad node groups on (constructing is cheap; synthesizing is not)."""
    app = cdk.App()
    return AiCluster(cdk.Stack(app, "Bad"), "Platform")


def gpu(platform: AiCluster, **props):
    return GpuNodeGroup(platform, f"Gpu{next(_ids)}", cluster=platform, **props)


def nvme(platform: AiCluster, **props):
    return NvmeNodeGroup(platform, f"Nvme{next(_ids)}", cluster=platform, **props)


def _nodegroups(reference) -> dict[str, dict]:
    return {k: v["Properties"] for k, v in reference.resources(STACK, "AWS::EKS::Nodegroup").items()}


def _launch_template(reference, nodegroup_props: dict) -> dict:
    lt_id = nodegroup_props["LaunchTemplate"]["Id"]["Ref"]
    return reference.template(STACK)["Resources"][lt_id]["Properties"]["LaunchTemplateData"]


def _by_prefix(reference, prefix: str) -> dict:
    matches = [p for k, p in _nodegroups(reference).items() if k.startswith(prefix)]
    assert len(matches) == 1, f"expected one node group with logical id prefix {prefix}"
    return matches[0]


# -- the reference stack's node groups ------------------------------------------------------------------


def test_gpu_group_taint_labels_and_scale_from_zero(reference):
    props = _by_prefix(reference, "DatasetGpuNodes")
    assert props["AmiType"] == "AL2023_x86_64_NVIDIA"  # the EKS API spells it so
    assert props["Taints"] == [{"Effect": "NO_SCHEDULE", "Key": GPU_TAINT_KEY, "Value": "true"}]
    assert props["Labels"]["eks-ai-data/accelerator"] == "nvidia"
    assert props["Labels"]["eks-ai-data/gpu-model"] == "H100"
    assert props["ScalingConfig"]["MinSize"] == 0
    assert props["InstanceTypes"] == ["p5.48xlarge"]
    assert props["CapacityType"] == "ON_DEMAND"


def test_every_launch_template_requires_imdsv2_with_hop_limit_one_and_encrypts_root(reference):
    data_key = next(
        k for k in reference.resources(TRAINING_DATA_STACK, "AWS::KMS::Key") if k.startswith("KeysDataKey")
    )
    for name, props in _nodegroups(reference).items():
        lt = _launch_template(reference, props)
        assert lt["MetadataOptions"]["HttpTokens"] == "required", name
        assert lt["MetadataOptions"]["HttpPutResponseHopLimit"] == 1, name
        root = lt["BlockDeviceMappings"][0]
        assert root["DeviceName"] == "/dev/xvda"
        assert root["Ebs"]["Encrypted"] is True
        assert root["Ebs"]["VolumeType"] == "gp3"
        assert reference.unimport(root["Ebs"]["KmsKeyId"]) == {"Fn::GetAtt": [data_key, "Arn"]}


def test_gpu_group_with_efa_uses_all_interfaces_a_placement_group_and_one_subnet(reference):
    props = _by_prefix(reference, "DatasetGpuNodes")
    lt = _launch_template(reference, props)
    interfaces = lt["NetworkInterfaces"]
    assert len(interfaces) == 32  # p5.48xlarge supports 32 EFA interfaces
    assert [i["NetworkCardIndex"] for i in interfaces] == list(range(32))
    assert {i["InterfaceType"] for i in interfaces} == {"efa"}
    assert [i["DeviceIndex"] for i in interfaces[:2]] == [0, 1]
    assert "GroupName" in lt["Placement"]
    assert len(reference.resources(STACK, "AWS::EC2::PlacementGroup")) == 1
    strategy = next(iter(reference.resources(STACK, "AWS::EC2::PlacementGroup").values()))["Properties"]
    assert strategy["Strategy"] == "cluster"
    assert len(props["Subnets"]) == 1


def test_gpu_group_with_instance_store_gets_raid0_user_data(reference):
    lt = _launch_template(reference, _by_prefix(reference, "DatasetGpuNodes"))
    text = lt["UserData"]["Fn::Base64"]
    assert text.startswith("MIME-Version: 1.0")
    assert "Content-Type: application/node.eks.aws" in text
    assert '"strategy": "RAID0"' in text
    assert _by_prefix(reference, "DatasetGpuNodes")["Labels"][LOCAL_NVME_LABEL] == "raid0"


def test_nvme_group_local_volumes_mode_in_the_reference(reference):
    props = _by_prefix(reference, "NvmeNodes")
    assert props["AmiType"] == "AL2023_x86_64_STANDARD"
    assert props["Labels"][LOCAL_NVME_LABEL] == "local-volumes"
    assert props["Taints"] == [{"Effect": "NO_SCHEDULE", "Key": "eks-ai-data/local-nvme", "Value": "true"}]
    assert '"strategy": "Mount"' in _launch_template(reference, props)["UserData"]["Fn::Base64"]


def test_gpu_and_nvme_groups_repair_nodes_and_tell_the_autoscaler_their_resources(reference):
    for prefix in ("DatasetGpuNodes", "NvmeNodes"):
        props = _by_prefix(reference, prefix)
        assert props["NodeRepairConfig"] == {"Enabled": True}
        # read by the Cluster Autoscaler through DescribeNodegroup while the group has no node
        assert "k8s.io/cluster-autoscaler/node-template/resources/ephemeral-storage" in props["Tags"]
    gpu = _by_prefix(reference, "DatasetGpuNodes")
    assert gpu["Tags"]["k8s.io/cluster-autoscaler/node-template/resources/vpc.amazonaws.com/efa"] == "32"
    assert gpu["Labels"]["k8s.amazonaws.com/accelerator"] == "nvidia-h100"
    assert gpu["Labels"]["eks-ai-data/efa"] == "true"
    tagged = {
        json.dumps(r["Properties"]["NodegroupName"])
        for r in reference.resources(STACK, "Custom::EksAiDataAsgTags").values()
    }
    assert tagged == {
        json.dumps({"Fn::GetAtt": [lid, "NodegroupName"]})
        for lid in _nodegroups(reference)
        if not lid.startswith("PlatformSystemNodes")
    }


def test_nodes_use_a_role_without_cni_permissions(reference):
    roles = reference.resources(STACK, "AWS::IAM::Role")
    for props in _nodegroups(reference).values():
        role = roles[props["NodeRole"]["Fn::GetAtt"][0]]["Properties"]
        names = sorted(json.dumps(arn) for arn in role["ManagedPolicyArns"])
        assert len(names) == 2
        assert any("AmazonEKSWorkerNodePolicy" in n for n in names)
        assert any("AmazonEC2ContainerRegistryPullOnly" in n for n in names)


# -- user data ------------------------------------------------------------------------------------------


def test_nodeadm_modes():
    assert nodeadm_config("none") is None
    assert nodeadm_config("raid0")["spec"]["instance"]["localStorage"] == {"strategy": "RAID0"}
    assert nodeadm_config("mount")["spec"]["instance"]["localStorage"] == {
        "strategy": "Mount",
        "mountPath": "/mnt/fast-disks",
    }
    text = al2023_user_data("mount")
    assert text.startswith("MIME-Version: 1.0")
    assert text.rstrip().endswith("--//eks-ai-data//--")
    assert "apiclient" in bottlerocket_user_data("raid0")


@pytest.fixture(scope="module")
def options(tmp_path_factory):
    """Node-group options the reference stack does not use, synthesized once."""
    app = cdk.App(outdir=str(tmp_path_factory.mktemp("nodegroup-options")))
    stack = cdk.Stack(app, "Options")
    platform = AiCluster(stack, "Platform")
    NvmeNodeGroup(
        stack, "Local", cluster=platform, instance_types=["c7gd.4xlarge"], mode="local-volumes", taint=True
    )
    GpuNodeGroup(
        stack,
        "Neuron",
        cluster=platform,
        instance_types=["trn1.32xlarge"],
        ami_type=eks.NodegroupAmiType.AL2023_X86_64_NEURON,
    )
    GpuNodeGroup(
        stack,
        "Block",
        cluster=platform,
        instance_types=["p5.48xlarge"],
        capacity_type=eks.CapacityType.CAPACITY_BLOCK,
        capacity_reservation_id="cr-0123456789abcdef0",
        subnet=platform.private_subnets[0],
    )
    GpuNodeGroup(
        stack,
        "Rocket",
        cluster=platform,
        instance_types=["g6.48xlarge"],
        ami_type=eks.NodegroupAmiType.BOTTLEROCKET_X86_64_NVIDIA,
    )
    return app.synth().get_stack_by_name("Options").template


def _group(template, prefix):
    ng = next(
        v["Properties"]
        for k, v in template["Resources"].items()
        if k.startswith(prefix) and v["Type"] == "AWS::EKS::Nodegroup"
    )
    lt = template["Resources"][ng["LaunchTemplate"]["Id"]["Ref"]]["Properties"]["LaunchTemplateData"]
    return ng, lt


def test_local_volumes_mode_and_taint(options):
    ng, lt = _group(options, "Local")
    assert ng["Labels"][LOCAL_NVME_LABEL] == "local-volumes"
    assert ng["AmiType"] == "AL2023_ARM_64_STANDARD"
    assert ng["Taints"] == [{"Effect": "NO_SCHEDULE", "Key": "eks-ai-data/local-nvme", "Value": "true"}]
    assert '"strategy": "Mount"' in lt["UserData"]["Fn::Base64"]
    assert '"mountPath": "/mnt/fast-disks"' in lt["UserData"]["Fn::Base64"]


def test_neuron_group_uses_neuron_taint(options):
    ng, _ = _group(options, "Neuron")
    assert ng["Taints"] == [{"Effect": "NO_SCHEDULE", "Key": "aws.amazon.com/neuron", "Value": "true"}]
    assert ng["Labels"]["eks-ai-data/accelerator"] == "neuron"
    assert ng["AmiType"] == "AL2023_x86_64_NEURON"


def test_capacity_block_sets_market_type_and_reservation(options):
    ng, lt = _group(options, "Block")
    assert ng["CapacityType"] == "CAPACITY_BLOCK"
    assert lt["InstanceMarketOptions"] == {"MarketType": "capacity-block"}
    assert lt["CapacityReservationSpecification"] == {
        "CapacityReservationTarget": {"CapacityReservationId": "cr-0123456789abcdef0"}
    }
    # EKS capacity-blocks-mng: the instance type is the launch template's, one subnet, sizes 0 until the block runs
    assert lt["InstanceType"] == "p5.48xlarge"
    assert "InstanceTypes" not in ng
    assert len(ng["Subnets"]) == 1
    assert (ng["ScalingConfig"]["MinSize"], ng["ScalingConfig"]["DesiredSize"]) == (0, 0)


def test_bottlerocket_encrypts_both_volumes_and_binds_ephemeral_storage(options):
    ng, lt = _group(options, "Rocket")
    assert ng["AmiType"] == "BOTTLEROCKET_x86_64_NVIDIA"
    assert [d["DeviceName"] for d in lt["BlockDeviceMappings"]] == ["/dev/xvda", "/dev/xvdb"]
    assert all(d["Ebs"]["Encrypted"] for d in lt["BlockDeviceMappings"])
    assert "ephemeral-storage" in lt["UserData"]["Fn::Base64"]


def test_pinned_subnet_exposes_its_az(platform):
    subnet = platform.private_subnets[1]
    group = gpu(platform, instance_types=["g6e.12xlarge"], subnet=subnet)
    assert group.availability_zone == subnet.availability_zone


# -- bad input ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("factory", "props", "message"),
    [
        (
            gpu,
            {"instance_types": ["m5.large"]},
            r"instance_types='m5.large'.*needs GPU or accelerator instance types",
        ),
        (gpu, {"instance_types": []}, r"instance_types=\[\]: must name at least one type"),
        (gpu, {"instance_types": ["p5.48xlarge", "p5.48xlarge"]}, "must not repeat a type"),
        (gpu, {"instance_types": ["p9.mega"]}, r"instance_types='p9.mega': is not in the instance catalog"),
        (
            gpu,
            {"instance_types": ["g5g.xlarge"]},
            r"instance_types='g5g.xlarge': is arm64 but AMI type AL2023_X86_64_NVIDIA is x86_64",
        ),
        (
            gpu,
            {"instance_types": ["inf2.xlarge"]},
            r"AMI type AL2023_X86_64_NVIDIA needs nvidia accelerators",
        ),
        (
            gpu,
            {"instance_types": ["g5.xlarge"], "ami_type": eks.NodegroupAmiType.AL2023_X86_64_STANDARD},
            r"ami_type='AL2023_X86_64_STANDARD': must be an accelerated AMI type",
        ),
        (
            gpu,
            {"instance_types": ["g5.xlarge"], "min_size": 3, "max_size": 2},
            r"min_size=3: must not exceed max_size \(2\)",
        ),
        (
            gpu,
            {"instance_types": ["g5.xlarge"], "min_size": 1, "max_size": 2, "desired_size": 5},
            r"desired_size=5: must be within \[min_size, max_size\] = \[1, 2\]",
        ),
        (
            gpu,
            {"instance_types": ["g5.xlarge"], "min_size": 1, "max_size": 2, "desired_size": 0},
            r"desired_size=0: must be within",
        ),
        (gpu, {"instance_types": ["g5.xlarge"], "efa": True}, r"efa=True: g5.xlarge does not support EFA"),
        (
            gpu,
            {"instance_types": ["p5.48xlarge", "p4d.24xlarge"], "efa": True},
            "all types must support the same number of EFA interfaces",
        ),
        (
            gpu,
            {"instance_types": ["p5.48xlarge"], "capacity_type": eks.CapacityType.CAPACITY_BLOCK},
            r"capacity_reservation_id=None: is required when capacity_type is CAPACITY_BLOCK",
        ),
        (
            gpu,
            {
                "instance_types": ["p5.48xlarge"],
                "capacity_type": eks.CapacityType.CAPACITY_BLOCK,
                "capacity_reservation_id": "abc",
            },
            r"capacity_reservation_id='abc': must be a capacity reservation id",
        ),
        (
            gpu,
            {"instance_types": ["p5.48xlarge"], "capacity_reservation_id": "cr-0123"},
            "is only used with capacity_type CAPACITY_BLOCK",
        ),
        (
            nvme,
            {"instance_types": ["m5.large"]},
            r"instance_types='m5.large'.*needs instance types with NVMe instance store",
        ),
        (nvme, {"instance_types": ["i4i.large", "c7gd.large"]}, "must share one CPU architecture"),
        (
            nvme,
            {"instance_types": ["i4i.large"], "mode": "raid5"},
            r"mode='raid5': must be 'ephemeral' or 'local-volumes'",
        ),
        (nvme, {"instance_types": []}, "must name at least one type"),
        (
            nvme,
            {"instance_types": ["i4i.large"], "capacity_type": eks.CapacityType.CAPACITY_BLOCK},
            "must be ON_DEMAND or SPOT",
        ),
        # labels: the library's own keys, EKS's 63-character limits, Kubernetes syntax, kubelet's reserved prefixes
        (
            gpu,
            {"instance_types": ["g6e.xlarge"], "labels": {"eks-ai-data/accelerator": "amd"}},
            r"labels=\{'eks-ai-data/accelerator': 'amd'\}: is set by eks-ai-data itself",
        ),
        (
            nvme,
            {"instance_types": ["i4i.large"], "labels": {"eks-ai-data/local-nvme": "raid0"}},
            r"labels=\{'eks-ai-data/local-nvme': 'raid0'\}: is set by eks-ai-data itself",
        ),
        (
            gpu,
            {"instance_types": ["g6e.xlarge"], "labels": {"team/" + "a" * 60: "x"}},
            r"label keys must be at most 63 characters here \(EKS node group limit\)",
        ),
        (
            gpu,
            {"instance_types": ["g6e.xlarge"], "labels": {"team": "x" * 64}},
            r"label values must be at most 63 characters",
        ),
        (
            gpu,
            {"instance_types": ["g6e.xlarge"], "labels": {"team": ""}},
            r"label values must not be empty here",
        ),
        (
            gpu,
            {"instance_types": ["g6e.xlarge"], "labels": {"-team": "x"}},
            r"a label key's name must be 1-63",
        ),
        (
            gpu,
            {"instance_types": ["g6e.xlarge"], "labels": {"Example.COM/team": "x"}},
            r"a label key's prefix must be a DNS-1123 subdomain",
        ),
        (
            gpu,
            {"instance_types": ["g6e.xlarge"], "labels": {"kubernetes.io/role": "gpu"}},
            r"label keys under kubernetes.io/ and k8s.io/ are reserved",
        ),
        (
            gpu,
            {"instance_types": ["g6e.xlarge"], "labels": ["team=a"]},
            r"invalid labels=\['team=a'\]: must be a mapping of label keys to values",
        ),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(platform, factory, props, message):
    with pytest.raises(EksAiDataValidationError, match=message) as info:
        factory(platform, **props)
    assert info.value.where.startswith("Bad/Platform/")  # the message names the construct path


def test_allowed_label_prefixes_and_user_labels_reach_the_node_group(platform):
    group = gpu(
        platform,
        instance_types=["g6e.xlarge"],
        labels={"node.kubernetes.io/pool": "train", "example.com/team": "ml"},
    )
    assert group.labels["node.kubernetes.io/pool"] == "train"
    assert group.labels["eks-ai-data/accelerator"] == "nvidia"
    assert group.labels["eks-ai-data/ami-family"] == "al2023"


def test_gpu_and_nvme_updates_respect_pod_disruption_budgets(reference):
    """ForceUpdateEnabled false: an AMI or launch-template update drains nodes respecting PDBs (training jobs with a
    PDB keep running) instead of terminating them; force_update=True is the opt-in."""
    for prefix in ("DatasetGpuNodes", "NvmeNodes"):
        assert _by_prefix(reference, prefix)["ForceUpdateEnabled"] is False


def test_force_update_is_an_explicit_opt_in(platform):
    group = gpu(platform, instance_types=["g6e.xlarge"], force_update=True)
    assert group.nodegroup.node.default_child.force_update_enabled is True


# -- AWS limits: node group names, integer sizes, lists of instance types ------------------------------


@pytest.mark.parametrize(
    ("factory", "props", "message"),
    [
        (
            gpu,
            {"instance_types": "p5.48xlarge"},
            r"instance_types='p5.48xlarge': must be a list of instance types, not a string: \['p5.48xlarge'\]",
        ),
        (
            nvme,
            {"instance_types": "i4i.large"},
            r"instance_types='i4i.large': must be a list of instance types",
        ),
        (gpu, {"instance_types": ["g5.xlarge", 5]}, r"must be a list of instance types \(strings\)"),
        (gpu, {"instance_types": ["g5.xlarge"], "max_size": 2.5}, r"max_size=2.5: must be a whole number"),
        (gpu, {"instance_types": ["g5.xlarge"], "min_size": True}, r"min_size=True: must be a whole number"),
        (
            nvme,
            {"instance_types": ["i4i.large"], "max_size": 4, "desired_size": 1.0},
            r"desired_size=1.0: must be a whole number between 0 and 1000",
        ),
        (
            gpu,
            {"instance_types": ["g5.xlarge"], "max_size": 1001},
            r"max_size=1001: must be between 1 and 1000",
        ),
        (
            gpu,
            {"instance_types": ["g5.xlarge"], "nodegroup_name": "g" * 64},
            r"nodegroup_name='g{64}': must be an EKS node group name: 1-63 letters, digits, '-' or '_', starting "
            r"with a letter or digit \(EKS API\)",
        ),
        (
            nvme,
            {"instance_types": ["i4i.large"], "nodegroup_name": "-nvme"},
            r"nodegroup_name='-nvme': must be an EKS node group name",
        ),
        (
            gpu,
            {"instance_types": ["g5.xlarge"], "nodegroup_name": "gpu.a"},
            r"nodegroup_name='gpu.a': must be an EKS node group name",
        ),
    ],
)
def test_aws_limits_are_refused_with_a_clear_message(platform, factory, props, message):
    with pytest.raises(EksAiDataValidationError, match=message) as info:
        factory(platform, **props)
    assert info.value.where.startswith("Bad/Platform/")


def test_aws_limits_themselves_are_accepted(platform):
    name = "G" + "a-_9" * 15 + "zz"  # 63 characters, EKS's limit
    assert len(name) == 63
    group = gpu(platform, instance_types=("g5.xlarge",), nodegroup_name=name, min_size=0, max_size=1000)
    cfn = group.nodegroup.node.default_child
    assert cfn.nodegroup_name == name
    scaling = cdk.Stack.of(platform).resolve(cfn.scaling_config)
    assert scaling == {"minSize": 0, "maxSize": 1000, "desiredSize": 0}
    nvme(platform, instance_types=["i4i.large"], nodegroup_name="0", desired_size=4)

"""Launch templates and user data for managed node groups (:class:`NodeLaunchTemplate`).

Every node gets IMDSv2 with a hop limit of 1: a pod cannot reach the instance metadata service, so it
cannot borrow the node role. Pods get AWS credentials through IRSA or EKS Pod Identity. What we install
that reads instance metadata does so from the host network namespace, where hop limit 1 suffices:
the VPC CNI (``aws-node``), kube-proxy, the EKS Pod Identity agent, the EFS and FSx CSI node plugins run
with ``hostNetwork: true``; the EBS CSI node plugin falls back to the Kubernetes node object for its
instance metadata, and the CSI controllers take their region from their add-on configuration. The NVIDIA
device plugin and the local static provisioner read no metadata.
"""

from __future__ import annotations

import json
import re
from typing import Literal

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_kms as kms
from constructs import Construct

from ._cfn import default_child
from ._validate import KEY, fail, require_int, require_resource, unresolved
from .labels import LOCAL_DISKS_DIR

AmiFamily = Literal["al2023", "bottlerocket"]
LocalStorage = Literal["none", "raid0", "mount"]
#: EC2 security group ids (sg- and 8 or 17 hexadecimal digits)
_SECURITY_GROUP_ID = re.compile(r"^sg-([0-9a-f]{8}|[0-9a-f]{17})\Z")

_BOUNDARY = "//eks-ai-data//"


def nodeadm_config(local_storage: LocalStorage) -> dict | None:
    """The AL2023 nodeadm ``NodeConfig`` (merged by EKS with the cluster details) for a local-storage mode.

    - ``raid0``: nodeadm stripes every NVMe instance-store disk into one RAID0 array and puts kubelet,
      containerd and pod logs on it, so ``emptyDir`` and image layers land on NVMe.
    - ``mount``: nodeadm formats and mounts each disk separately under :data:`LOCAL_DISKS_DIR`, where the
      local static provisioner discovers them as local PersistentVolumes.
    """
    if local_storage == "none":
        return None
    strategy = (
        {"strategy": "RAID0"}
        if local_storage == "raid0"
        else {"strategy": "Mount", "mountPath": LOCAL_DISKS_DIR}
    )
    return {
        "apiVersion": "node.eks.aws/v1alpha1",
        "kind": "NodeConfig",
        "spec": {"instance": {"localStorage": strategy}},
    }


def al2023_user_data(local_storage: LocalStorage) -> str | None:
    """MIME multi-part user data (what managed node groups require) carrying the nodeadm ``NodeConfig``."""
    config = nodeadm_config(local_storage)
    if config is None:
        return None
    return "\n".join(
        [
            "MIME-Version: 1.0",
            f'Content-Type: multipart/mixed; boundary="{_BOUNDARY}"',
            "",
            f"--{_BOUNDARY}",
            "Content-Type: application/node.eks.aws",
            "",
            json.dumps(config, indent=2),
            "",
            f"--{_BOUNDARY}--",
            "",
        ]
    )


def bottlerocket_user_data(local_storage: LocalStorage) -> str | None:
    """Bottlerocket settings (TOML) that put kubelet and containerd on the RAID0 of the instance store."""
    if local_storage == "none":
        return None
    if local_storage != "raid0":
        raise ValueError("Bottlerocket supports only the raid0 local-storage mode here")
    dirs = '"/var/lib/containerd", "/var/lib/kubelet", "/var/log/pods"'
    return "\n".join(
        [
            "[settings.bootstrap-commands.k8s-ephemeral-storage]",
            'commands = [["apiclient", "ephemeral-storage", "init"], '
            f'["apiclient", "ephemeral-storage", "bind", "--dirs", {dirs}]]',
            "essential = true",
            'mode = "always"',
            "",
        ]
    )


class NodeLaunchTemplate(Construct):
    """A launch template for a managed node group: IMDSv2 (hop limit 1), encrypted gp3 root volume, user data,
    and optionally EFA interfaces in a cluster placement group.

    :param volume_key: KMS key of the root (and Bottlerocket data) volume. Required.
    :param ami_family: ``al2023`` or ``bottlerocket``; decides the device names and user-data format.
    :param root_volume_gib: root volume size (20-16384 GiB). Default: 100.
    :param local_storage: ``none``, ``raid0`` (kubelet and containerd on a RAID0 of the NVMe instance store) or
        ``mount`` (each disk mounted under :data:`LOCAL_DISKS_DIR` for the local static provisioner).
    :param efa_interfaces: EFA interfaces, one per network card (0 for none). Default: 0.
    :param security_group_id: required with EFA: interfaces declared in a launch template must name their
        security groups (the cluster security group, which allows all traffic among nodes, as EFA needs).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        volume_key: kms.IKey,
        ami_family: AmiFamily = "al2023",
        root_volume_gib: int = 100,
        local_storage: LocalStorage = "none",
        efa_interfaces: int = 0,
        security_group_id: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        require_resource(self, "volume_key", volume_key, *KEY)
        # EBS gp3 volumes: 1-16384 GiB (EC2 user guide, "Amazon EBS volume types"); 20 GiB holds an EKS AMI
        require_int(self, "root_volume_gib", root_volume_gib, 20, 16384)
        # EFA: one interface per network card; the largest types have 32 (p5en, p6-b200)
        require_int(self, "efa_interfaces", efa_interfaces, 0, 32)
        for prop, value, choices in (
            ("ami_family", ami_family, ("al2023", "bottlerocket")),
            ("local_storage", local_storage, ("none", "raid0", "mount")),
        ):
            if value not in choices:
                raise fail(self, prop, value, f"must be one of {list(choices)}")
        if security_group_id is not None and not unresolved(security_group_id):
            if not (isinstance(security_group_id, str) and _SECURITY_GROUP_ID.match(security_group_id)):
                raise fail(
                    self,
                    "security_group_id",
                    security_group_id,
                    "must be a security group id: sg- and 8 or 17 hex digits",
                )

        def ebs(size: int) -> ec2.BlockDeviceVolume:
            return ec2.BlockDeviceVolume.ebs(
                size,
                encrypted=True,
                kms_key=volume_key,
                volume_type=ec2.EbsDeviceVolumeType.GP3,
                delete_on_termination=True,
            )

        if ami_family == "bottlerocket":
            devices = [
                ec2.BlockDevice(device_name="/dev/xvda", volume=ebs(20)),
                ec2.BlockDevice(device_name="/dev/xvdb", volume=ebs(root_volume_gib)),
            ]
            user_data_text = bottlerocket_user_data(local_storage)
        else:
            devices = [ec2.BlockDevice(device_name="/dev/xvda", volume=ebs(root_volume_gib))]
            user_data_text = al2023_user_data(local_storage)

        self.placement_group: ec2.PlacementGroup | None = None
        if efa_interfaces:
            self.placement_group = ec2.PlacementGroup(
                self, "PlacementGroup", strategy=ec2.PlacementGroupStrategy.CLUSTER
            )

        self.user_data_text = user_data_text
        self.launch_template = ec2.LaunchTemplate(
            self,
            "LaunchTemplate",
            block_devices=devices,
            http_tokens=ec2.LaunchTemplateHttpTokens.REQUIRED,
            http_put_response_hop_limit=1,
            http_endpoint=True,
            require_imdsv2=True,
            user_data=ec2.UserData.custom(user_data_text) if user_data_text else None,
            placement_group=self.placement_group,
        )
        if efa_interfaces:
            if security_group_id is None:
                raise ValueError("security_group_id is required with EFA interfaces")
            cfn = default_child(self.launch_template, ec2.CfnLaunchTemplate)
            interfaces = [
                {
                    "DeviceIndex": 0 if card == 0 else 1,
                    "NetworkCardIndex": card,
                    "InterfaceType": "efa",
                    "Groups": [security_group_id],
                    "DeleteOnTermination": True,
                }
                for card in range(efa_interfaces)
            ]
            cfn.add_property_override("LaunchTemplateData.NetworkInterfaces", interfaces)
        self.efa_interfaces = efa_interfaces

    @property
    def spec(self) -> eks.LaunchTemplateSpec:
        # aws-cdk-lib types launch_template_id as optional (a template imported by name has none); this one is
        # created here, so it always has one.
        template_id = self.launch_template.launch_template_id
        if template_id is None:
            raise TypeError(f"{self.node.path}: the launch template has no id")
        return eks.LaunchTemplateSpec(
            id=template_id,
            version=self.launch_template.latest_version_number,
        )


__all__ = ["NodeLaunchTemplate", "al2023_user_data", "bottlerocket_user_data", "nodeadm_config"]

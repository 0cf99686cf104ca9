"""The CSI drivers and the snapshot controller as EKS managed add-ons (:class:`StorageDrivers`)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, cast

from aws_cdk import Stack
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ._nag import (
    acknowledge,
    acknowledge_inline_policy,
    acknowledge_resolved,
    managed_policy_finding,
    nag_flatten,
)
from ._trust import claim_service_account, irsa_principal, pod_identity_principal
from ._validate import fail, require, require_bool, require_mapping, unresolved
from .cluster_interface import IAiCluster, dependencies, require_ai_cluster
from .identity import IdentityLike, IdentityMode, identity_mode
from .labels import (
    ALL_NODE_TAINTS,
    CSI_OWNER_TAG_KEY,
    NODE_ROLE_LABEL,
    NODE_ROLE_SYSTEM,
    PROTECTED_TAG_KEY,
)
from .naming import ADDON_VERSION, toleration_problem

EBS = "aws-ebs-csi-driver"
EFS = "aws-efs-csi-driver"
FSX = "aws-fsx-csi-driver"
SNAPSHOT = "snapshot-controller"
MOUNTPOINT = "aws-mountpoint-s3-csi-driver"
#: Every add-on this construct can install, in the order it creates them.
STORAGE_ADDONS = (EBS, EFS, FSX, SNAPSHOT, MOUNTPOINT)
#: The namespace the add-ons install into.
NAMESPACE = "kube-system"
#: The service accounts that call AWS APIs, per add-on (the role trusts exactly these). The EBS and FSx node
#: plugins call no AWS API (they read instance facts from IMDS or the Node object); the EFS node plugin needs
#: credentials to mount with ``-o iam`` (efs-utils signs the mount as this role), and the add-on's
#: ``ServiceAccountRoleArn`` annotates both EFS service accounts. Mountpoint's credentials are the node
#: plugin's (``s3-csi-driver-sa``, driver-level identity); its controller only schedules Mountpoint pods.
SERVICE_ACCOUNTS: Mapping[str, tuple[str, ...]] = {
    EBS: ("ebs-csi-controller-sa",),
    EFS: ("efs-csi-controller-sa", "efs-csi-node-sa"),
    FSX: ("fsx-csi-controller-sa",),
    MOUNTPOINT: ("s3-csi-driver-sa",),
}
#: Pod Identity: the service accounts each add-on's own ``PodIdentityAssociations`` may name (EKS accepts only those
#: the add-on version declares: aws-efs-csi-driver issue 1759; EKS user guide "Pod Identity with add-ons"), and the
#: ones that get a standalone ``AWS::EKS::PodIdentityAssociation`` instead (never both for one service account:
#: EKS answers 409 and an add-on cannot adopt an existing association). The EFS node plugin needs credentials for
#: ``-o iam`` mounts (efs-utils tries Pod Identity first, then IRSA, then the instance role through IMDS); Mountpoint's
#: driver-level credentials are its node plugin's (``s3-csi-driver-sa``, mountpoint-s3-csi-driver CONFIGURATION.md).
ADDON_POD_IDENTITY_ACCOUNTS: Mapping[str, tuple[str, ...]] = {
    EBS: ("ebs-csi-controller-sa",),
    EFS: ("efs-csi-controller-sa",),
    FSX: ("fsx-csi-controller-sa",),
    MOUNTPOINT: (),
}
STANDALONE_POD_IDENTITY_ACCOUNTS: Mapping[str, tuple[str, ...]] = {
    EFS: ("efs-csi-node-sa",),
    MOUNTPOINT: ("s3-csi-driver-sa",),
}
#: AWS-managed policies per driver. ``AmazonEBSCSIDriverPolicyV2`` limits the driver to volumes and snapshots
#: tagged ``ebs.csi.aws.com/cluster=true`` (the driver tags what it creates); FSx has no driver policy (the
#: AWS-recommended ``AmazonFSxFullAccess`` would let the driver delete every file system in the account), so
#: the FSx role gets a scoped inline policy instead; Mountpoint gets grants on the buckets it mounts.
MANAGED_POLICIES: Mapping[str, str] = {
    EBS: "AmazonEBSCSIDriverPolicyV2",
    EFS: "service-role/AmazonEFSCSIDriverPolicy",
}
#: Data-key actions the EBS driver's calls need through EC2 (EBS user guide, "Permissions for users", with
#: ``kms:ReEncrypt*`` spelled out), besides ``kms:CreateGrant`` for AWS resources.
EBS_KEY_ACTIONS = (
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)
#: Data-key actions FSx needs from the caller creating a PERSISTENT file system with the key (the FSx user
#: guide's required key-policy permissions), besides ``kms:CreateGrant`` for AWS resources.
FSX_KEY_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKeyWithoutPlaintext")
#: The tag the FSx driver puts on every file system it creates (its value is the PersistentVolume name).
FSX_VOLUME_TAG = "CSIVolumeName"
#: The prop that turns each driver with a role on (named when its service accounts already have a role elsewhere).
_DRIVER_PROPS = {EBS: "ebs", EFS: "efs", FSX: "fsx_lustre", MOUNTPOINT: "mountpoint_s3_buckets"}


def platform_tolerations() -> list[dict[str, str]]:
    """Tolerations of every taint the project's node groups carry (GPU, Neuron, local NVMe), any value."""
    return [{"key": t.key, "operator": "Exists", "effect": t.effect} for t in ALL_NODE_TAINTS]


def configuration_values(
    addon: str,
    *,
    tolerate_all_taints: bool = True,
    tolerations: Sequence[Mapping[str, Any]] = (),
    system_labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The add-on's ``ConfigurationValues``: controllers on the system nodes, node plugins on every node.

    Only keys that each add-on's configuration schema accepts (a subset of its Helm values):
    ``controller.nodeSelector`` (EBS, EFS, FSx), top-level ``nodeSelector`` (snapshot controller),
    ``node.tolerateAllTaints`` + ``node.tolerations`` (EBS, FSx, Mountpoint), ``node.tolerations`` (EFS, whose
    chart has no ``tolerateAllTaints``: an ``Exists`` toleration without a key tolerates every taint).
    Mountpoint's controller accepts no placement values; it lands on untainted nodes (here: the system nodes).
    ``system_labels``: the labels of the nodes controllers run on. Default: the platform's system node group label;
    empty: no placement constraint (an imported cluster without named system nodes).
    """
    system = dict(system_labels) if system_labels is not None else {NODE_ROLE_LABEL: NODE_ROLE_SYSTEM}
    if addon == SNAPSHOT:
        return {"nodeSelector": system} if system else {}
    if tolerate_all_taints:
        node: dict[str, Any] = (
            {"tolerations": [{"operator": "Exists"}]} if addon == EFS else {"tolerateAllTaints": True}
        )
    else:
        node = {"tolerations": [*platform_tolerations(), *(dict(t) for t in tolerations)]}
        if addon != EFS:
            node["tolerateAllTaints"] = False
    values: dict[str, Any] = {"node": node}
    if addon in (EBS, EFS, FSX) and system:
        values["controller"] = {"nodeSelector": system}
    return values


class StorageDrivers(Construct):
    """The EBS, EFS and FSx for Lustre CSI drivers, the CSI snapshot controller and, optionally, Mountpoint
    for Amazon S3, as EKS managed add-ons with one IAM role per driver.

    Identity (``identity``): ``"irsa"`` puts the role on the add-on's ``ServiceAccountRoleArn`` (which annotates
    every service account of the add-on: the EFS role serves its controller and node plugin alike); the trust
    policy is ``sts:AssumeRoleWithWebIdentity`` from the cluster's OIDC provider with ``StringEquals`` on ``sub``
    (the driver's exact service accounts, see :data:`SERVICE_ACCOUNTS`) and ``aud`` (``sts.amazonaws.com``).
    ``"pod-identity"`` gives each service account its own association: through the add-on's
    ``PodIdentityAssociations`` for the accounts the add-on declares, standalone associations for the others
    (:data:`ADDON_POD_IDENTITY_ACCOUNTS`, :data:`STANDALONE_POD_IDENTITY_ACCOUNTS`); the EFS node plugin then has a
    role of its own that may only mount (:attr:`efs_mount_role`). Roles trust ``pods.eks.amazonaws.com``
    (``sts:AssumeRole``, ``sts:TagSession``) with ``StringEquals`` on the session tags EKS sets:
    ``eks-cluster-arn`` (this cluster), ``kubernetes-namespace`` and ``kubernetes-service-account``. The FSx add-on
    waits for the Pod Identity agent in both modes (the EKS user guide says the add-on fails without it).

    Permissions (KMS statements name the platform's data key, ``cluster.keys.data_key``, never ``*``):

    - EBS: ``AmazonEBSCSIDriverPolicyV2`` (static volumes must carry ``ebs.csi.aws.com/cluster=true``), and on
      the data key, through EC2 only: ``kms:CreateGrant`` (for AWS resources only), ``kms:Decrypt``,
      ``kms:DescribeKey``, ``kms:GenerateDataKeyWithoutPlaintext``, ``kms:ReEncryptFrom``/``ReEncryptTo``.
    - EFS: ``AmazonEFSCSIDriverPolicy``; no KMS (EFS encrypts with the grant it took when the file system was
      created; the driver only manages access points). Grant mounts to :attr:`roles` ``[EFS]`` with
      ``EfsFileSystem.grant_*`` (the node plugin mounts with ``-o iam`` as this role).
    - FSx for Lustre: ``fsx:DescribeFileSystems``; ``fsx:CreateFileSystem``/``TagResource`` only with exactly the
      driver's ``CSIVolumeName`` tag and this cluster's ``eks-ai-data:csi-cluster`` tag;
      ``fsx:UpdateFileSystem``/``DeleteFileSystem`` only on file systems tagged for this cluster; an explicit Deny
      of every change to file systems tagged ``eks-ai-data:protected`` (the platform's own); FSx's service-linked
      role; on the data key,
      through FSx only: ``kms:CreateGrant`` (for AWS resources), ``kms:Decrypt``, ``kms:DescribeKey``,
      ``kms:GenerateDataKeyWithoutPlaintext`` (PERSISTENT file systems encrypted with it).
    - Mountpoint: nothing for pod-level volumes (``authenticationSource: pod``, the default of
      :class:`~eks_ai_data.k8s.MountpointVolumeSpec`): the driver mounts them with the workload pod's own
      credentials and ignores any driver-level source (mountpoint-s3-csi-driver docs/CONFIGURATION.md), so with
      ``mountpoint_s3=True`` alone the driver has no role at all. Only for driver-level volumes of
      ``mountpoint_s3_buckets``: ``s3:ListBucket`` on each bucket, ``s3:GetObject`` (and with
      ``mountpoint_s3_write`` ``s3:PutObject``, ``s3:AbortMultipartUpload``, ``s3:DeleteObject``) on its objects,
      and ``kms:Decrypt`` (+ ``kms:GenerateDataKey`` to write) on the bucket's key through S3 when it has one.

    Placement: controllers get ``nodeSelector`` ``eks-ai-data/node-role=system``. Node plugins tolerate every
    taint by default, so a claim on an EBS, EFS, Lustre or S3 volume mounts on every node group, tainted ones
    included (the GPU, Neuron and NVMe groups, and any taint you add later). ``tolerate_all_taints=False``
    narrows them to the platform's taints plus ``extra_tolerations``.

    Every add-on depends on the system node group (controllers need nodes to become Active); versions are
    EKS's default for the cluster version unless pinned; nothing is looked up at synth time.

    :param cluster: the cluster (:class:`~eks_ai_data.cluster.AiCluster` or ``AiCluster.from_existing(...)``).
    :param identity: ``IdentityMode.IRSA`` / ``"irsa"`` or ``IdentityMode.POD_IDENTITY`` / ``"pod-identity"``.
        Default: IRSA.
    :param ebs: install the EBS CSI driver. Default: ``True``.
    :param efs: install the EFS CSI driver. Default: ``True``.
    :param fsx_lustre: install the FSx for Lustre CSI driver. Default: ``True``.
    :param snapshot_controller: install the CSI snapshot controller (VolumeSnapshot CRDs). Default: ``True``.
    :param mountpoint_s3: install Mountpoint for Amazon S3 for pod-level volumes (no driver role). Default: ``False``
        (:meth:`enable_mountpoint` installs it later).
    :param mountpoint_s3_buckets: buckets Mountpoint may mount with its own, driver-level credentials (every
        namespace's pods then read them through any volume of theirs: prefer pod-level volumes); the driver is
        installed when there is at least one. Default: none.
    :param mountpoint_s3_write: let Mountpoint write and delete objects, not just read them. Default: ``False``.
    :param versions: pinned add-on versions by add-on name, e.g. ``{"aws-ebs-csi-driver": "v1.64.0-eksbuild.1"}``.
        Default: EKS's default version of each add-on for the cluster version.
    :param tolerate_all_taints: node plugins tolerate every taint. Default: ``True``.
    :param extra_tolerations: Kubernetes tolerations added to the platform's, with ``tolerate_all_taints=False``.
        Default: none.

    Attributes: :attr:`addons` (add-on name -> ``eks.Addon``), :attr:`roles` (add-on name -> ``iam.Role``; the
    snapshot controller has none, nor has Mountpoint without ``mountpoint_s3_buckets``).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster: IAiCluster,
        identity: IdentityLike = IdentityMode.IRSA,
        ebs: bool = True,
        efs: bool = True,
        fsx_lustre: bool = True,
        snapshot_controller: bool = True,
        mountpoint_s3: bool = False,
        mountpoint_s3_buckets: Sequence[s3.IBucket] = (),
        mountpoint_s3_write: bool = False,
        versions: Mapping[str, str] | None = None,
        tolerate_all_taints: bool = True,
        extra_tolerations: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        cluster = require_ai_cluster(self, "cluster", cluster)
        mode = identity_mode(self, "identity", identity)
        for prop, flag in (
            ("ebs", ebs),
            ("efs", efs),
            ("fsx_lustre", fsx_lustre),
            ("snapshot_controller", snapshot_controller),
            ("mountpoint_s3", mountpoint_s3),
            ("mountpoint_s3_write", mountpoint_s3_write),
            ("tolerate_all_taints", tolerate_all_taints),
        ):
            require_bool(self, prop, flag)
        buckets = list(mountpoint_s3_buckets)
        self._check_buckets(stack, buckets)
        enabled = [
            name
            for name, on in (
                (EBS, ebs),
                (EFS, efs),
                (FSX, fsx_lustre),
                (SNAPSHOT, snapshot_controller),
                (MOUNTPOINT, mountpoint_s3 or bool(buckets)),
            )
            if on
        ]
        if not enabled:
            raise fail(
                self,
                "ebs",
                False,
                "enable at least one driver (or mountpoint_s3, or give mountpoint_s3_buckets)",
            )
        if mountpoint_s3_write and not buckets:
            raise fail(self, "mountpoint_s3_write", True, "needs mountpoint_s3_buckets")
        versions = require_mapping(
            self,
            "versions",
            versions,
            "a mapping of add-on names to versions, e.g. {'aws-ebs-csi-driver': ...}",
        )
        for name, version in versions.items():
            require(self, name in enabled, "versions", name, f"keys must be enabled add-ons: {enabled}")
            require(
                self,
                isinstance(version, str) and bool(ADDON_VERSION.match(version)),
                "versions",
                {name: version},
                "values must be EKS add-on versions like 'v1.64.0-eksbuild.1'",
            )
        self._check_tolerations(tolerate_all_taints, extra_tolerations)

        self.cluster = cluster
        self.identity = mode
        self._stack = stack
        self._data_key_arn = cluster.keys.data_key.key_arn
        self.roles: dict[str, iam.Role] = {}
        self.addons: dict[str, eks.Addon] = {}
        self._efs_node_role: iam.Role | None = None
        self.pod_identity_associations: list[eks.CfnPodIdentityAssociation] = []
        #: The role the EFS node plugin mounts with (``-o iam``): grant it ``ClientMount``/``ClientWrite`` on the file
        #: systems the cluster mounts (``ClusterStorage.grant_efs_mounts`` does). ``None`` without the EFS driver.
        self.efs_mount_role: iam.Role | None = None
        self._versions = versions
        self._placement: dict[str, Any] = {
            "tolerate_all_taints": tolerate_all_taints,
            "tolerations": extra_tolerations,
        }
        self._buckets, self._write = buckets, mountpoint_s3_write
        for name in enabled:
            self._install(name)
        if EFS in self.roles:
            self.efs_mount_role = self._efs_node_role or self.roles[EFS]

    def enable_mountpoint(self) -> eks.Addon:
        """Install Mountpoint for Amazon S3 for pod-level volumes if it is not installed yet (idempotent)."""
        return self.addons.get(MOUNTPOINT) or self._install(MOUNTPOINT)

    def _install(self, name: str) -> eks.Addon:
        # Mountpoint gets a role only for driver-level buckets: pod-level volumes use the workload's credentials.
        needs_role = name in SERVICE_ACCOUNTS and (name != MOUNTPOINT or bool(self._buckets))
        role = self._role(name, self._buckets, self._write) if needs_role else None
        if needs_role:  # after the role, whose trust refuses a cluster without what the identity mode needs
            claim_service_account(
                self, _DRIVER_PROPS[name], self.cluster.cluster, NAMESPACE, SERVICE_ACCOUNTS[name]
            )
        addon = eks.Addon(
            self,
            f"Addon-{name}",
            cluster=self.cluster.cluster,
            addon_name=name,
            addon_version=self._versions.get(name),
            configuration_values=configuration_values(
                name, system_labels=self.cluster.system_node_labels, **self._placement
            ),
            preserve_on_delete=False,
        )
        for dependency in dependencies(self.cluster.node_dependency):
            addon.node.add_dependency(dependency)
        if name == FSX:
            for dependency in dependencies(self.cluster.pod_identity_agent):
                addon.node.add_dependency(dependency)
        if role is not None:
            self._attach(addon, name, role)
        self.addons[name] = addon
        return addon

    # -- identity -----------------------------------------------------------------------------------
    def _attach(self, addon: eks.Addon, name: str, role: iam.Role) -> None:
        cfn = cast(eks.CfnAddon, addon.node.default_child)  # typed IConstruct | None
        if self.identity is IdentityMode.IRSA:
            cfn.add_property_override("ServiceAccountRoleArn", role.role_arn)
            return
        declared = ADDON_POD_IDENTITY_ACCOUNTS[name]
        if declared:
            cfn.add_property_override(
                "PodIdentityAssociations",
                [{"ServiceAccount": sa, "RoleArn": role.role_arn} for sa in declared],
            )
        for sa in STANDALONE_POD_IDENTITY_ACCOUNTS.get(name, ()):
            standalone_role = self._efs_node_role if name == EFS else role
            association = eks.CfnPodIdentityAssociation(
                self,
                f"PodIdentity-{sa}",
                cluster_name=self.cluster.cluster.cluster_name,
                namespace=NAMESPACE,
                service_account=sa,
                role_arn=standalone_role.role_arn,  # type: ignore[union-attr]  # _role(EFS) set it (pod-identity)
            )
            association.node.add_dependency(addon)  # the add-on creates the service account
            self.pod_identity_associations.append(association)
        for dependency in dependencies(self.cluster.pod_identity_agent):
            addon.node.add_dependency(dependency)

    def _accounts(self, name: str) -> tuple[str, ...]:
        """The service accounts the add-on's role serves (in Pod Identity mode the EFS node plugin has its own)."""
        if self.identity is IdentityMode.POD_IDENTITY and name == EFS:
            return ADDON_POD_IDENTITY_ACCOUNTS[EFS]
        return SERVICE_ACCOUNTS[name]

    def _principal(self, name: str, accounts: Sequence[str] | None = None) -> iam.IPrincipal:
        accounts = tuple(accounts) if accounts is not None else self._accounts(name)
        if self.identity is IdentityMode.POD_IDENTITY:
            return pod_identity_principal(self.cluster.cluster.cluster_arn, NAMESPACE, accounts)
        provider = self.cluster.oidc_provider
        if provider is None:
            raise fail(
                self,
                "identity",
                "irsa",
                "the cluster has no IAM OIDC provider (give AiCluster.from_existing an open_id_connect_provider), "
                "or use identity='pod-identity'",
            )
        return irsa_principal(self, f"TrustConditions-{name}", provider, NAMESPACE, accounts)

    # -- permissions --------------------------------------------------------------------------------
    def _role(self, name: str, buckets: list[s3.IBucket], write: bool) -> iam.Role:
        policy = MANAGED_POLICIES.get(name)
        role = iam.Role(
            self,
            f"Role-{name}",
            assumed_by=self._principal(name),
            description=f"{name} ({', '.join(self._accounts(name))}) through {self.identity.label}",
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(policy)] if policy else None,
        )
        if policy:
            acknowledge(
                role,
                "IAM4",
                f"{policy} is the AWS-maintained policy of the {name} add-on; AWS updates it with the driver",
                finding=managed_policy_finding(policy),
            )
        if name == EBS:
            self._kms(role, "ec2", EBS_KEY_ACTIONS)
        elif name == FSX:
            self._fsx(role)
            self._kms(role, "fsx", FSX_KEY_ACTIONS)
        elif name == MOUNTPOINT:
            self._mountpoint(role, buckets, write)
        elif name == EFS and self.identity is IdentityMode.POD_IDENTITY:
            (node_account,) = STANDALONE_POD_IDENTITY_ACCOUNTS[EFS]
            self._efs_node_role = iam.Role(
                self,
                f"Role-{name}-node",
                assumed_by=self._principal(name, [node_account]),
                description=f"{name} node plugin ({node_account}): IAM-authorized EFS mounts, through pod-identity",
            )
            acknowledge_inline_policy(self._efs_node_role)
        acknowledge_inline_policy(role)
        self.roles[name] = role
        return role

    def _kms(self, role: iam.Role, service: str, actions: Sequence[str]) -> None:
        """Use of the data key through ``service`` only; grants only for AWS resources (the volume)."""
        via = {"StringEquals": {"kms:ViaService": f"{service}.{self._stack.region}.amazonaws.com"}}
        for statement_actions, conditions in (
            (list(actions), via),
            (["kms:CreateGrant"], {**via, "Bool": {"kms:GrantIsForAWSResource": "true"}}),
        ):
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=statement_actions, resources=[self._data_key_arn], conditions=conditions
                )
            )

    def _fsx(self, role: iam.Role) -> None:
        """Create, update and delete only the file systems of this cluster's dynamic class, never another's.

        The driver tags every file system it creates with ``CSIVolumeName`` and the class's ``extraTags``
        (aws-fsx-csi-driver pkg/cloud/cloud.go), in the CreateFileSystem call itself (so IAM checks
        ``fsx:TagResource`` with ``aws:RequestTag`` too). Creation must carry exactly ``CSIVolumeName`` and
        :data:`~eks_ai_data.labels.CSI_OWNER_TAG_KEY` = this cluster's name (the Lustre StorageClass sets it);
        update and delete need that tag on the file system. FSx has no condition key that limits ``TagResource``
        to creation, so an explicit Deny stops any change (tag, untag, update, delete) to a file system carrying
        :data:`~eks_ai_data.labels.PROTECTED_TAG_KEY`, which every :class:`~eks_ai_data.lustre.LustreStore` has.
        """
        file_systems = self._stack.format_arn(service="fsx", resource="file-system", resource_name="*")
        cluster_name = self.cluster.cluster.cluster_name
        create_conditions = {
            "StringEquals": {f"aws:RequestTag/{CSI_OWNER_TAG_KEY}": cluster_name},
            "Null": {f"aws:RequestTag/{FSX_VOLUME_TAG}": "false"},
            "ForAllValues:StringEquals": {"aws:TagKeys": [FSX_VOLUME_TAG, CSI_OWNER_TAG_KEY]},
        }
        statements = [
            iam.PolicyStatement(actions=["fsx:DescribeFileSystems"], resources=["*"]),
            iam.PolicyStatement(
                actions=["fsx:CreateFileSystem", "fsx:TagResource"],
                resources=[file_systems],
                conditions=create_conditions,
            ),
            iam.PolicyStatement(
                actions=["fsx:UpdateFileSystem", "fsx:DeleteFileSystem"],
                resources=[file_systems],
                conditions={"StringEquals": {f"aws:ResourceTag/{CSI_OWNER_TAG_KEY}": cluster_name}},
            ),
            iam.PolicyStatement(
                sid="DenyChangesToProtectedFileSystems",
                effect=iam.Effect.DENY,
                actions=[
                    "fsx:TagResource",
                    "fsx:UntagResource",
                    "fsx:UpdateFileSystem",
                    "fsx:DeleteFileSystem",
                ],
                resources=["*"],
                conditions={"Null": {f"aws:ResourceTag/{PROTECTED_TAG_KEY}": "false"}},
            ),
            iam.PolicyStatement(
                actions=["iam:CreateServiceLinkedRole"],
                resources=[
                    self._stack.format_arn(
                        service="iam",
                        region="",
                        resource="role",
                        resource_name="aws-service-role/fsx.amazonaws.com/*",
                    )
                ],
                conditions={"StringEquals": {"iam:AWSServiceName": "fsx.amazonaws.com"}},
            ),
        ]
        # One IAM5 finding per wildcard resource: the reason says what every statement on that resource allows.
        reasons = {
            "*": "fsx:DescribeFileSystems has no resource type (Service Authorization Reference, Amazon FSx), so it "
            "takes '*'; it only reads file-system descriptions",
            file_systems: f"fsx:CreateFileSystem and fsx:TagResource on any file system of this account and Region "
            f"when the request's tags are exactly {FSX_VOLUME_TAG} and {CSI_OWNER_TAG_KEY}=<this cluster's name> "
            f"(a dynamic file system's ARN is unknown before the driver creates it); fsx:UpdateFileSystem and "
            f"fsx:DeleteFileSystem on file systems tagged {CSI_OWNER_TAG_KEY}=<this cluster's name>. FSx has no "
            f"condition key that limits TagResource to creation, so these credentials could also put those two tags "
            f"on an existing file system and then update or delete it, unless it is tagged {PROTECTED_TAG_KEY}: "
            f"the explicit Deny refuses every tag, untag, update and delete on those (every LustreStore has the tag)",
            statements[-1].resources[0]: "iam:CreateServiceLinkedRole only for fsx.amazonaws.com "
            "(iam:AWSServiceName); AWS names the role under aws-service-role/fsx.amazonaws.com/",
        }
        for statement in statements:
            role.add_to_policy(statement)
            if statement.effect == iam.Effect.ALLOW:
                for resource in statement.resources:
                    if "*" in resource:
                        acknowledge(role, "IAM5", reasons[resource], finding=self._finding(resource))

    def _mountpoint(self, role: iam.Role, buckets: list[s3.IBucket], write: bool) -> None:
        object_actions = ["s3:GetObject"]
        if write:
            object_actions += ["s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject"]
        for bucket in buckets:
            role.add_to_policy(iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn]))
            role.add_to_policy(
                iam.PolicyStatement(actions=object_actions, resources=[bucket.arn_for_objects("*")])
            )
            key = bucket.encryption_key
            if key is not None:
                actions = ["kms:Decrypt", *(["kms:GenerateDataKey"] if write else [])]
                role.add_to_policy(
                    iam.PolicyStatement(
                        actions=actions,
                        resources=[key.key_arn],
                        conditions={
                            "StringEquals": {"kms:ViaService": f"s3.{self._stack.region}.amazonaws.com"}
                        },
                    )
                )
            acknowledge_resolved(
                role,
                "IAM5",
                "Mountpoint reads (and with mountpoint_s3_write writes) any object of the buckets it mounts: "
                "the object actions name <bucket ARN>/* of exactly those buckets",
                kind="Resource",
                value=bucket.arn_for_objects("*"),
            )

    def _finding(self, resource: str) -> str:
        """cdk-nag's finding id for a wildcard resource (intrinsics rendered as cdk-nag renders them)."""
        return f"Resource::{nag_flatten(self._stack.resolve(resource))}"

    # -- validation ---------------------------------------------------------------------------------
    def _check_buckets(self, stack: Stack, buckets: list[s3.IBucket]) -> None:
        seen: set[str] = set()
        for bucket in buckets:
            if not hasattr(bucket, "bucket_arn") or not hasattr(bucket, "arn_for_objects"):
                raise fail(self, "mountpoint_s3_buckets", bucket, "must be s3.IBucket objects")
            arn = json.dumps(stack.resolve(bucket.bucket_arn), sort_keys=True)
            if arn in seen:
                raise fail(self, "mountpoint_s3_buckets", bucket.node.path, "lists the same bucket twice")
            seen.add(arn)

    def _check_tolerations(self, tolerate_all: bool, tolerations: Sequence[Mapping[str, Any]]) -> None:
        if isinstance(tolerations, (str, Mapping)):
            raise fail(
                self,
                "extra_tolerations",
                tolerations,
                f"must be a list of tolerations, not one: [{tolerations!r}]",
            )
        if tolerate_all and tolerations:
            raise fail(
                self,
                "extra_tolerations",
                list(tolerations),
                "has no effect with tolerate_all_taints=True (node plugins already tolerate every taint)",
            )
        for toleration in tolerations:
            tokens = isinstance(toleration, Mapping) and any(unresolved(v) for v in toleration.values())
            problem = None if tokens else toleration_problem(toleration)
            if problem is not None:
                raise fail(self, "extra_tolerations", toleration, problem)

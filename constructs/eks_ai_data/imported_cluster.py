"""An EKS cluster that already exists, described for eks-ai-data's constructs (:class:`ImportedAiCluster`)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct, IDependable

from ._flags import LAMBDA_MANAGED_LOG_GROUP, pin_feature_flags
from ._trust import irsa_principal
from ._validate import (
    KEY,
    fail,
    require,
    require_bool,
    require_cluster_name,
    require_enum,
    require_mapping,
    require_principal_arn,
    require_resource,
    require_resources,
    validate_node_labels,
)
from .cluster_interface import IPlatformKeys
from .errors import shown
from .function_logs import DEFAULT_LOG_RETENTION, own_function_logs
from .kubectl import acknowledge_kubectl_provider, cluster_admin_policy, kubectl_layer_class

SECURITY_GROUP_ID = re.compile(r"^sg-[0-9a-f]{8}([0-9a-f]{9})?\Z")


class ImportedAiCluster(Construct):
    """An existing EKS cluster, for node groups, storage drivers, in-cluster charts, identities and patterns.

    Made by :meth:`AiCluster.from_existing <eks_ai_data.cluster.AiCluster.from_existing>`. Nothing about the cluster
    is looked up: every fact the constructs need is a prop. The cluster is not changed (its endpoint, logging,
    secrets encryption and core add-ons stay as they are); what the constructs add to it are node groups, EKS
    add-ons, access entries, Pod Identity associations and in-cluster objects.

    Charts, Helm releases and manifests are applied by a kubectl provider (a Lambda function with the kubectl
    layer of ``kubernetes_version``): ``kubectl_provider`` if you have one, else a new one in ``private_subnets``
    with the cluster security group (it reaches a private endpoint), whose role gets cluster-admin through an
    access entry (the cluster's authentication mode must be ``API`` or ``API_AND_CONFIG_MAP``; with
    ``grant_kubectl_access=False`` map ``kubectl_role`` yourself). aws-cdk-lib ignores
    ``kubectl_provider_options`` on imported clusters, which is why the provider is created here. Its functions
    (and the stack's CfnJson provider, for IRSA conditions) log into their own log groups, encrypted with
    ``keys.data_key``, kept ``log_retention`` and retained (:mod:`eks_ai_data.function_logs`). The cluster's
    control-plane log group is not this construct's: it belongs to whoever created the cluster.

    :param cluster_name: the cluster's name. Required.
    :param kubernetes_version: the cluster's Kubernetes minor version ("1.33" to "1.36"): picks the kubectl layer
        and the versions of what is installed. Required.
    :param vpc: the cluster's VPC. Required.
    :param cluster_security_group_id: the EKS-created cluster security group (``sg-...``), which managed nodes
        carry; file systems admit clients by it. Required.
    :param keys: the platform keys: ``DataKeys`` or ``PlatformKeys(data_key=...)``. Required.
    :param private_subnets: subnets for nodes and the kubectl provider. Default: the VPC's private subnets with egress.
    :param open_id_connect_provider: the cluster's IAM OIDC provider (``iam.OpenIdConnectProvider.
        from_open_id_connect_provider_arn``), needed for IRSA. Default: none (use Pod Identity).
    :param kubectl_provider: an existing kubectl provider for this cluster. Default: a new one.
    :param kubectl_role: execution role of the new kubectl provider (it must trust ``lambda.amazonaws.com``).
        Default: a new role.
    :param grant_kubectl_access: give the new provider's role cluster-admin through an access entry. Default: ``True``.
    :param system_node_labels: labels of the nodes controllers should run on (e.g. ``{"role": "system"}``).
        Default: none (controllers go wherever the scheduler puts them).
    :param install_pod_identity_agent: install the ``eks-pod-identity-agent`` add-on (Pod Identity needs it).
        Default: ``False`` (installed already, or Pod Identity not used).
    :param log_retention: retention of the log groups of the new kubectl provider's functions. Default: one year.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster_name: str,
        kubernetes_version: str,
        vpc: ec2.IVpc,
        cluster_security_group_id: str,
        keys: IPlatformKeys,
        private_subnets: Sequence[ec2.ISubnet] | None = None,
        open_id_connect_provider: iam.IOpenIdConnectProvider | None = None,
        kubectl_provider: eks.IKubectlProvider | None = None,
        kubectl_role: iam.IRole | None = None,
        grant_kubectl_access: bool = True,
        system_node_labels: Mapping[str, str] | None = None,
        install_pod_identity_agent: bool = False,
        log_retention: logs.RetentionDays = DEFAULT_LOG_RETENTION,
    ) -> None:
        super().__init__(scope, id)
        require_enum(self, "log_retention", log_retention, logs.RetentionDays)
        require_bool(self, "grant_kubectl_access", grant_kubectl_access)
        require_bool(self, "install_pod_identity_agent", install_pod_identity_agent)
        # No CDK-managed function log groups (ours replace them), whatever the app's flags.
        pin_feature_flags(self, {LAMBDA_MANAGED_LOG_GROUP: False})
        require_cluster_name(self, cluster_name)
        layer_class = kubectl_layer_class(self, kubernetes_version, "kubernetes_version")
        require(
            self,
            isinstance(cluster_security_group_id, str)
            and bool(SECURITY_GROUP_ID.match(cluster_security_group_id)),
            "cluster_security_group_id",
            cluster_security_group_id,
            "must be a security group id (sg- and 8 or 17 hexadecimal digits): the EKS cluster security group",
        )
        if not isinstance(keys, IPlatformKeys):
            raise fail(
                self,
                "keys",
                shown(keys),
                "must be DataKeys or PlatformKeys(data_key=...) (at least the data key)",
            )
        require_resource(self, "keys.data_key", keys.data_key, *KEY)
        if keys.backup_key is not None:
            require_resource(self, "keys.backup_key", keys.backup_key, *KEY)
        if open_id_connect_provider is not None:
            require_resource(
                self,
                "open_id_connect_provider",
                open_id_connect_provider,
                "open_id_connect_provider_arn",
                "an iam.IOpenIdConnectProvider (iam.OpenIdConnectProvider.from_open_id_connect_provider_arn(...))",
            )
        if kubectl_role is not None:
            require_resource(
                self,
                "kubectl_role",
                kubectl_role,
                "role_arn",
                "an iam.IRole (iam.Role.from_role_arn(...)), not an ARN",
            )
        require_resource(
            self,
            "vpc",
            vpc,
            "select_subnets",
            "the cluster's VPC (an ec2.IVpc, e.g. ec2.Vpc.from_vpc_attributes)",
        )
        if private_subnets is not None:
            require_resources(
                self,
                "private_subnets",
                private_subnets,
                "subnet_id",
                "a list of ec2.ISubnet (e.g. ec2.Subnet.from_subnet_id(...)), not ids or one subnet",
            )
        subnets = (
            list(private_subnets)
            if private_subnets is not None
            else vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS).subnets
        )
        if not subnets:
            raise fail(
                self,
                "private_subnets",
                [],
                "must name at least one subnet (the VPC has no private subnets with egress)",
            )
        if kubectl_provider is not None and (kubectl_role is not None or not grant_kubectl_access):
            raise fail(
                self,
                "kubectl_role",
                getattr(kubectl_role, "role_arn", None),
                "kubectl_role and grant_kubectl_access configure a new kubectl provider; "
                "with kubectl_provider given, neither applies",
            )
        labels = require_mapping(
            self, "system_node_labels", system_node_labels, "a mapping of label keys to values"
        )
        validate_node_labels(self, "system_node_labels", labels, reserved=())

        self._vpc = vpc
        self._subnets = subnets
        self._keys = keys
        self._version = kubernetes_version
        self._oidc = open_id_connect_provider
        self._system_labels = labels
        self.node_security_group_ref = ec2.SecurityGroup.from_security_group_id(
            self, "ClusterSecurityGroup", cluster_security_group_id, mutable=False
        )

        def from_attributes(id: str, provider: eks.IKubectlProvider | None = None) -> eks.ICluster:
            return eks.Cluster.from_cluster_attributes(
                self,
                id,
                cluster_name=cluster_name,
                vpc=vpc,
                cluster_security_group_id=cluster_security_group_id,
                open_id_connect_provider=open_id_connect_provider,
                kubectl_provider=provider,
            )

        self.kubectl_access: eks.AccessEntry | None = None
        if kubectl_provider is None:
            bare = from_attributes("Bare")
            self.kubectl_layer = layer_class(self, "KubectlLayer")
            provider = eks.KubectlProvider(
                self,
                "KubectlProvider",
                cluster=bare,
                kubectl_layer=self.kubectl_layer,
                private_subnets=subnets,
                security_groups=[self.node_security_group_ref],
                role=kubectl_role,
            )
            acknowledge_kubectl_provider(provider)
            own_function_logs(provider, key=keys.data_key, retention=log_retention)
            kubectl_provider = provider
        self.kubectl_provider = kubectl_provider
        self._cluster = from_attributes("Cluster", kubectl_provider)
        if isinstance(kubectl_provider, eks.KubectlProvider) and grant_kubectl_access:
            # typed optional in aws-cdk-lib; a KubectlProvider this app creates always has its handler's role
            handler_role = kubectl_provider.role
            if handler_role is None:
                raise TypeError(f"{kubectl_provider.node.path}: the kubectl provider has no role")
            self.kubectl_access = eks.AccessEntry(
                self,
                "KubectlAccess",
                cluster=self._cluster,
                principal=handler_role.role_arn,
                access_policies=[cluster_admin_policy()],
            )
        self._agent: eks.Addon | None = None
        if install_pod_identity_agent:
            self._agent = eks.Addon(
                self,
                "PodIdentityAgent",
                cluster=self._cluster,
                addon_name="eks-pod-identity-agent",
                preserve_on_delete=False,
            )
        self.admin_access: list[eks.AccessEntry] = []

    # -- IAiCluster ---------------------------------------------------------------------------------
    @property
    def cluster(self) -> eks.ICluster:
        return self._cluster

    @property
    def keys(self) -> IPlatformKeys:
        return self._keys

    @property
    def vpc(self) -> ec2.IVpc:
        return self._vpc

    @property
    def private_subnets(self) -> list[ec2.ISubnet]:
        return list(self._subnets)

    @property
    def node_security_group(self) -> ec2.ISecurityGroup:
        return self.node_security_group_ref

    @property
    def kubernetes_version(self) -> str:
        return self._version

    @property
    def oidc_provider(self) -> iam.IOpenIdConnectProvider | None:
        return self._oidc

    @property
    def system_node_labels(self) -> Mapping[str, str]:
        return dict(self._system_labels)

    @property
    def node_dependency(self) -> IDependable | None:
        """What charts wait for: the kubectl access entry (a new provider cannot apply anything before it)."""
        return self.kubectl_access

    @property
    def pod_identity_agent(self) -> IDependable | None:
        return self._agent

    @property
    def created(self) -> bool:
        return False

    # -- what AiCluster also offers ------------------------------------------------------------------
    def service_account_principal(self, namespace: str, service_account: str) -> iam.IPrincipal:
        """An IRSA principal for exactly one service account (needs ``open_id_connect_provider``)."""
        if self._oidc is None:
            raise fail(
                self,
                "open_id_connect_provider",
                None,
                "IRSA needs the cluster's IAM OIDC provider: import the cluster with open_id_connect_provider=..., "
                "or use Pod Identity",
            )
        return irsa_principal(
            self, f"IrsaConditions-{namespace}-{service_account}", self._oidc, namespace, [service_account]
        )

    def grant_admin(self, id: str, principal_arn: str) -> eks.AccessEntry:
        """Give ``principal_arn`` cluster-admin through an access entry (API authentication mode needed)."""
        require_principal_arn(self, "principal_arn", principal_arn)
        entry = eks.AccessEntry(
            self,
            f"AccessEntry{id}",
            cluster=self._cluster,
            principal=principal_arn,
            access_policies=[cluster_admin_policy()],
        )
        self.admin_access.append(entry)
        return entry

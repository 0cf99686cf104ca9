"""The AI-ready EKS cluster (:class:`AiCluster`) on ``aws_cdk.aws_eks_v2``."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import cast

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct, IDependable

from . import catalog
from ._flags import LAMBDA_MANAGED_LOG_GROUP, NATIVE_OIDC_PROVIDER, pin_feature_flags
from ._nag import acknowledge, acknowledge_inline_policy, managed_policy_finding
from ._trust import claim_service_account, irsa_principal
from ._validate import (
    fail,
    require,
    require_bool,
    require_cluster_name,
    require_enum,
    require_mapping,
    require_principal_arn,
    require_string_list,
    unresolved,
)
from .capacity_versions import NODE_MONITORING_AGENT_ADDON
from .cluster_interface import CreatedEksCluster
from .compute.node_health import NodeMonitoringAgent
from .function_logs import DEFAULT_LOG_RETENTION, own_function_logs
from .imported_cluster import ImportedAiCluster
from .keys import DataKeys
from .kubectl import acknowledge_kubectl_provider, cluster_admin_policy, kubectl_layer_class
from .labels import AMI_FAMILY_AL2023, AMI_FAMILY_LABEL, NODE_ROLE_LABEL, NODE_ROLE_SYSTEM
from .launch_template import NodeLaunchTemplate
from .naming import (
    ADDON_VERSION,
    ADDON_VERSION_RULE,
    MAX_CLUSTER_NAME,
    ipv4_cidr_problem,
)
from .network import ClusterNetwork
from .node_role import node_role
from .versions import DEFAULT_KUBERNETES_VERSION

#: The core managed add-ons every cluster gets. Versions are EKS's default for the cluster version unless pinned.
CORE_ADDONS = ("vpc-cni", "kube-proxy", "coredns", "eks-pod-identity-agent")
#: The system node group's AMI by the instance type's CPU architecture (``catalog.architecture``).
SYSTEM_AMI_TYPES = {
    "x86_64": eks.NodegroupAmiType.AL2023_X86_64_STANDARD,
    "arm64": eks.NodegroupAmiType.AL2023_ARM_64_STANDARD,
}
#: Configuration of core add-ons. The VPC CNI's network policy agent enforces Kubernetes NetworkPolicies (team
#: namespaces rely on them); without ``enableNetworkPolicy`` the CNI ignores every policy (EKS user guide,
#: eks-networking-add-ons "Enable the network policy parameter for the add-on": a string "true", VPC CNI 1.14+).
CORE_ADDON_CONFIGURATION = {"vpc-cni": {"enableNetworkPolicy": "true"}}
#: EKS quota "Public endpoint access CIDR ranges per cluster": 40, not adjustable (aws/containers-roadmap#2174).
MAX_PUBLIC_ACCESS_CIDRS = 40


class AiCluster(Construct):
    """An EKS cluster for AI/ML data platforms.

    What you get by saying little:

    - Kubernetes ``version`` (default ``1.36``: see :mod:`eks_ai_data.versions` for why), with the kubectl
      provider using the matching ``aws-cdk.lambda-layer-kubectl-vNN`` layer.
    - Kubernetes secrets envelope-encrypted with ``keys.secrets_key`` (``DataKeys``, created if not given).
    - All five control-plane log types (api, audit, authenticator, controllerManager, scheduler), written to
      ``/aws/eks/<cluster name>/cluster``, a log group this construct creates before the cluster (otherwise EKS
      creates it on the first log event, unencrypted and kept forever), encrypted with the data key, kept
      ``log_retention``, retained on deletion. The cluster name is therefore known at synth time: ``cluster_name``,
      or one derived from the stack name and construct path (:func:`default_cluster_name`).
    - The kubectl provider's functions (and the stack's CfnJson provider) log into their own log groups under
      the data key (:mod:`eks_ai_data.function_logs`).
    - Authentication mode API: access entries only (no aws-auth ConfigMap); ``admin_principal_arn`` gets
      the ``AmazonEKSClusterAdminPolicy`` at cluster scope.
    - A private API endpoint by default: the control plane is reachable only from the VPC (the kubectl
      provider's Lambda runs in the private subnets). Pass ``public_access_cidrs`` to also open the public
      endpoint to those CIDRs only; an open public endpoint is never the default.
    - A small on-demand system node group (labelled ``eks-ai-data/node-role=system``) for controllers and
      add-ons, with IMDSv2 required (hop limit 1) and an encrypted gp3 root volume.
    - Core managed add-ons (vpc-cni, kube-proxy, coredns, eks-pod-identity-agent), versions pinnable through
      ``addon_versions``; nothing is looked up at synth time.
    - A native IAM OIDC provider (``AWS::IAM::OIDCProvider``) for IRSA.
    - The VPC given as ``vpc``, or a new :class:`ClusterNetwork` (private subnets with egress in 3 AZs, an S3
      gateway endpoint, flow logs).

    :param version: Kubernetes version ("1.33" to "1.36"). Default: ``1.36``.
    :param vpc: an existing VPC; its private subnets with egress host nodes and control-plane ENIs.
        Default: a new :class:`ClusterNetwork`.
    :param availability_zones: AZs of the new VPC (a subset of the stack's). Ignored with ``vpc``. Default: the
        stack's (a stack with a concrete region must know them without a lookup: :class:`ZonalStack`).
    :param keys: the platform keys. Default: a new :class:`DataKeys` named ``Keys`` under this construct.
    :param cluster_name: the EKS cluster name (1-100 letters, digits, ``-``, ``_``). Default:
        :func:`default_cluster_name` (``<stack name>-<construct path>``, deterministic).
    :param log_retention: retention of the control-plane (audit) and function log groups. Default: one year.
    :param admin_principal_arn: an IAM role or user ARN given cluster-admin through an access entry.
        Default: none (add access entries later with :meth:`grant_admin`).
    :param public_access_cidrs: open the public endpoint to these CIDRs (and keep the private one).
        Default: private endpoint only.
    :param system_instance_type: instance type of the system node group, any EC2 type the catalog knows (its CPU
        architecture picks the AL2023 x86_64 or arm64 AMI). Default: ``m7i.large``.
    :param system_node_count: desired (and minimum) size of the system node group (2-10). Default: 2.
    :param addon_versions: pinned versions of the core add-ons, e.g. ``{"vpc-cni": "v1.20.4-eksbuild.1"}`` (and of
        ``eks-node-monitoring-agent``). Default: EKS's default version for the cluster version at creation time.
    :param node_monitoring_agent: install the ``eks-node-monitoring-agent`` add-on, which node auto repair needs to
        see GPU, kernel, network and storage faults (:class:`~eks_ai_data.compute.node_health.NodeMonitoringAgent`).
        Default: ``True``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        version: str = DEFAULT_KUBERNETES_VERSION,
        vpc: ec2.IVpc | None = None,
        availability_zones: Sequence[str] | None = None,
        keys: DataKeys | None = None,
        cluster_name: str | None = None,
        admin_principal_arn: str | None = None,
        public_access_cidrs: Sequence[str] | None = None,
        system_instance_type: str = "m7i.large",
        system_node_count: int = 2,
        addon_versions: Mapping[str, str] | None = None,
        log_retention: logs.RetentionDays = DEFAULT_LOG_RETENTION,
        node_monitoring_agent: bool = True,
    ) -> None:
        super().__init__(scope, id)
        require_enum(self, "log_retention", log_retention, logs.RetentionDays)
        # The native AWS::IAM::OIDCProvider rather than the custom-resource provider, and no CDK-managed
        # function log groups (ours replace them), whatever the app's flags.
        pin_feature_flags(self, {NATIVE_OIDC_PROVIDER: True, LAMBDA_MANAGED_LOG_GROUP: False})
        if cluster_name is None:
            cluster_name = default_cluster_name(self)
        require_cluster_name(self, cluster_name)

        layer_class = kubectl_layer_class(self, version)
        if isinstance(system_node_count, bool) or not isinstance(system_node_count, int):
            raise fail(
                self, "system_node_count", system_node_count, "must be a whole number between 2 and 10"
            )
        require(
            self,
            2 <= system_node_count <= 10,
            "system_node_count",
            system_node_count,
            "must be between 2 and 10 (two nodes keep controllers available during node replacement)",
        )
        require_bool(self, "node_monitoring_agent", node_monitoring_agent)
        addon_versions = require_mapping(
            self,
            "addon_versions",
            addon_versions,
            "a mapping of add-on names to versions, e.g. {'vpc-cni': ...}",
        )
        pinnable = [*CORE_ADDONS, NODE_MONITORING_AGENT_ADDON]
        for name, pinned in addon_versions.items():
            require(self, name in pinnable, "addon_versions", name, f"keys must be one of {pinnable}")
            require(
                self,
                isinstance(pinned, str) and bool(ADDON_VERSION.match(pinned)),
                "addon_versions",
                {name: pinned},
                f"values {ADDON_VERSION_RULE}",
            )
        if availability_zones is not None:
            availability_zones = require_string_list(
                self, "availability_zones", availability_zones, what="zone names"
            )
        system_ami_type = self._system_ami_type(system_instance_type)
        if public_access_cidrs is not None:
            public_access_cidrs = self._public_access_cidrs(public_access_cidrs)
        if admin_principal_arn is not None:
            require_principal_arn(self, "admin_principal_arn", admin_principal_arn)

        self.kubernetes_version = version
        self.keys = keys if keys is not None else DataKeys(self, "Keys")
        if vpc is None:
            self.network: ClusterNetwork | None = ClusterNetwork(
                self, "Network", logs_key=self.keys.data_key, availability_zones=availability_zones
            )
            vpc = self.network.vpc
        else:
            self.network = None
        self.vpc = vpc
        self._private_subnets: list[ec2.ISubnet] | None = None
        private = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        endpoint = (
            eks.EndpointAccess.PUBLIC_AND_PRIVATE.only_from(*public_access_cidrs)
            if public_access_cidrs
            else eks.EndpointAccess.PRIVATE
        )

        self.kubectl_layer = layer_class(self, "KubectlLayer")
        self.cluster_name = cluster_name
        # EKS writes control-plane logs to this group, and creates it itself (unencrypted, never expiring) when it
        # does not exist on the first log event (EKS user guide, "Send control plane logs to CloudWatch Logs").
        self.control_plane_log_group = logs.LogGroup(
            self,
            "ControlPlaneLogs",
            log_group_name=f"/aws/eks/{cluster_name}/cluster",
            encryption_key=self.keys.data_key,
            retention=log_retention,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # an eks.ICluster whose Python class does not say so (see CreatedEksCluster)
        self.cluster: CreatedEksCluster = eks.Cluster(  # type: ignore[assignment]
            self,
            "Cluster",
            version=eks.KubernetesVersion.of(version),
            cluster_name=cluster_name,
            vpc=vpc,
            vpc_subnets=[private],
            endpoint_access=endpoint,
            secrets_encryption_key=self.keys.secrets_key,
            cluster_logging=[
                eks.ClusterLoggingTypes.API,
                eks.ClusterLoggingTypes.AUDIT,
                eks.ClusterLoggingTypes.AUTHENTICATOR,
                eks.ClusterLoggingTypes.CONTROLLER_MANAGER,
                eks.ClusterLoggingTypes.SCHEDULER,
            ],
            default_capacity_type=eks.DefaultCapacityType.NODEGROUP,
            default_capacity=0,
            bootstrap_cluster_creator_admin_permissions=False,
            bootstrap_self_managed_addons=False,
            kubectl_provider_options=eks.KubectlProviderOptions(
                kubectl_layer=self.kubectl_layer,
                private_subnets=self.private_subnets,
            ),
        )
        # The key policies delegate to IAM: EKS calls KMS with the cluster role's own session to envelope-encrypt
        # secrets, so the role needs the key in its identity policy.
        self.secrets_key_grant = self.keys.grant_secrets_encryption(self.cluster.role)
        self.oidc_provider: iam.IOpenIdConnectProvider = self.cluster.open_id_connect_provider
        acknowledge(
            self.cluster.role,
            "IAM4",
            "AmazonEKSClusterPolicy is the AWS-maintained policy the EKS control plane's role requires",
            finding=managed_policy_finding("AmazonEKSClusterPolicy"),
        )
        cast(eks.CfnCluster, self.cluster.node.default_child).node.add_dependency(
            self.control_plane_log_group
        )
        kubectl_provider = self.cluster.node.find_child("KubectlProvider")
        acknowledge_kubectl_provider(kubectl_provider)
        self.function_log_groups = own_function_logs(
            kubectl_provider, key=self.keys.data_key, retention=log_retention
        )
        acknowledge_inline_policy(self.cluster.role)

        # The VPC CNI gets its own role through IRSA, so the node role carries no network-interface permissions.
        claim_service_account(self, "vpc_cni_role", self.cluster, "kube-system", ["aws-node"])
        self.vpc_cni_role = iam.Role(
            self,
            "VpcCniRole",
            assumed_by=self.service_account_principal("kube-system", "aws-node"),
            description="VPC CNI (aws-node) through IRSA",
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name("AmazonEKS_CNI_Policy")],
        )
        acknowledge(
            self.vpc_cni_role,
            "IAM4",
            "AmazonEKS_CNI_Policy is the AWS-maintained policy of the VPC CNI; AWS updates it with the CNI",
            finding=managed_policy_finding("AmazonEKS_CNI_Policy"),
        )

        # Core add-ons: vpc-cni and kube-proxy before nodes (nodes need a CNI to become Ready), coredns after.
        self.addons: dict[str, eks.IAddon] = {}
        for name in CORE_ADDONS:
            if name == "eks-pod-identity-agent":
                # aws_eks_v2 creates this one add-on itself when anything uses Pod Identity; take that instance
                # so that there is never a second one.
                # typed optional; aws_eks_v2 creates it with the cluster (Pod Identity is used)
                addon = cast(eks.IAddon, self.cluster.eks_pod_identity_agent)
            else:
                addon = eks.Addon(
                    self,
                    f"Addon-{name}",
                    cluster=self.cluster,
                    addon_name=name,
                    preserve_on_delete=False,
                    configuration_values=CORE_ADDON_CONFIGURATION.get(name),
                )
            if name in addon_versions:
                cast(eks.CfnAddon, addon.node.default_child).add_property_override(
                    "AddonVersion", addon_versions[name]
                )
            self.addons[name] = addon
        cast(eks.CfnAddon, self.addons["vpc-cni"].node.default_child).add_property_override(
            "ServiceAccountRoleArn", self.vpc_cni_role.role_arn
        )

        self.system_launch_template = NodeLaunchTemplate(
            self, "SystemLaunchTemplate", volume_key=self.keys.data_key, ami_family="al2023"
        )
        self.system_nodegroup = eks.Nodegroup(
            self,
            "SystemNodes",
            cluster=self.cluster,
            ami_type=system_ami_type,
            capacity_type=eks.CapacityType.ON_DEMAND,
            instance_types=[ec2.InstanceType(system_instance_type)],
            min_size=system_node_count,
            desired_size=system_node_count,
            max_size=system_node_count * 2,
            labels={NODE_ROLE_LABEL: NODE_ROLE_SYSTEM, AMI_FAMILY_LABEL: AMI_FAMILY_AL2023},
            launch_template_spec=self.system_launch_template.spec,
            subnets=private,
            enable_node_auto_repair=True,
            node_role=node_role(self, "SystemNodeRole"),
        )
        for name in ("vpc-cni", "kube-proxy", "eks-pod-identity-agent"):
            self.system_nodegroup.node.add_dependency(self.addons[name])
        self.addons["coredns"].node.add_dependency(self.system_nodegroup)

        self._node_security_group = ec2.SecurityGroup.from_security_group_id(
            self, "NodeSecurityGroup", self.cluster.cluster_security_group_id, mutable=False
        )
        self.admin_access: list[eks.AccessEntry] = []
        if admin_principal_arn is not None:
            self.grant_admin("Admin", admin_principal_arn)
        self.node_monitoring_agent: NodeMonitoringAgent | None = (
            NodeMonitoringAgent(
                self,
                "NodeMonitoringAgent",
                cluster=self,
                version=addon_versions.get(NODE_MONITORING_AGENT_ADDON),
            )
            if node_monitoring_agent
            else None
        )

    def _public_access_cidrs(self, cidrs: Sequence[str]) -> list[str]:
        """1-40 IPv4 CIDR blocks (EKS's quota), each without host bits, none of them 0.0.0.0/0."""
        cidrs = require_string_list(self, "public_access_cidrs", cidrs, what="IPv4 CIDR blocks")
        require(
            self,
            0 < len(cidrs) <= MAX_PUBLIC_ACCESS_CIDRS and "0.0.0.0/0" not in cidrs,
            "public_access_cidrs",
            cidrs,
            f"must list 1-{MAX_PUBLIC_ACCESS_CIDRS} CIDRs allowed to reach the public endpoint (the EKS quota), and "
            "not 0.0.0.0/0 (leave it unset for a private endpoint)",
        )
        for cidr in cidrs:
            problem = None if unresolved(cidr) else ipv4_cidr_problem(cidr)
            if problem is not None:
                raise fail(self, "public_access_cidrs", cidr, problem)
        return cidrs

    def _system_ami_type(self, instance_type: str) -> eks.NodegroupAmiType:
        """The AL2023 standard AMI of ``instance_type``'s architecture; unknown and macOS types are refused."""
        if unresolved(instance_type):
            raise fail(
                self, "system_instance_type", instance_type, "must be a concrete instance type, not a token"
            )
        if not catalog.exists(instance_type):
            raise fail(
                self,
                "system_instance_type",
                instance_type,
                "is not an EC2 instance type the catalog knows (eks_ai_data.catalog.exists); e.g. m7i.large, m8g.large",
            )
        arch = catalog.architecture(instance_type)
        if arch not in SYSTEM_AMI_TYPES:
            raise fail(
                self, "system_instance_type", instance_type, f"is a {arch} type: no EKS AMI runs on it"
            )
        return SYSTEM_AMI_TYPES[arch]

    # -- public API ---------------------------------------------------------------------------------
    @property
    def node_security_group(self) -> ec2.ISecurityGroup:
        """The EKS-created cluster security group, which managed nodes carry (our launch templates name no
        security groups): file systems allow their clients by this group."""
        return self._node_security_group

    @property
    def private_subnets(self) -> list[ec2.ISubnet]:
        # Selected once: a VPC's subnets are fixed once it is built (ec2.Vpc cannot add one later), and each
        # selection is two calls into the jsii kernel, asked for by every pool, file system and pattern.
        if self._private_subnets is None:
            self._private_subnets = self.vpc.select_subnets(
                subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS
            ).subnets
        return list(self._private_subnets)

    def service_account_principal(self, namespace: str, service_account: str) -> iam.IPrincipal:
        """An IRSA principal for exactly one Kubernetes service account: ``StringEquals`` on the OIDC provider's
        ``sub`` (``system:serviceaccount:NS:SA``) and ``aud`` (``sts.amazonaws.com``), never a wildcard."""
        return irsa_principal(
            self,
            f"IrsaConditions-{namespace}-{service_account}",
            self.oidc_provider,
            namespace,
            [service_account],
        )

    def grant_admin(self, id: str, principal_arn: str) -> eks.AccessEntry:
        """Give ``principal_arn`` (an IAM role or user) cluster-admin through an access entry."""
        require_principal_arn(self, "principal_arn", principal_arn)
        entry = eks.AccessEntry(
            self,
            f"AccessEntry{id}",
            cluster=self.cluster,
            principal=principal_arn,
            access_policies=[cluster_admin_policy()],
        )
        self.admin_access.append(entry)
        return entry

    # -- IAiCluster ---------------------------------------------------------------------------------
    @property
    def system_node_labels(self) -> Mapping[str, str]:
        """Labels of the system node group, where controllers and add-on controllers run."""
        return {NODE_ROLE_LABEL: NODE_ROLE_SYSTEM}

    @property
    def node_dependency(self) -> IDependable:
        """The system node group: add-ons and charts are created once it has nodes."""
        return self.system_nodegroup

    @property
    def pod_identity_agent(self) -> IDependable:
        return self.addons["eks-pod-identity-agent"]

    @property
    def created(self) -> bool:
        return True

    #: An existing EKS cluster (another stack, Terraform, eksctl) described for the constructs: the props of
    #: :class:`~eks_ai_data.imported_cluster.ImportedAiCluster` (``cluster_name``, ``kubernetes_version``, ``vpc``,
    #: ``cluster_security_group_id``, ``keys``, ...).
    from_existing = staticmethod(ImportedAiCluster)


def default_cluster_name(scope: Construct) -> str:
    """``<stack name>-<construct path below the stack>``: the EKS name of an :class:`AiCluster` given none.

    Deterministic (the control-plane log group is named after it before the cluster exists), unique per account
    and Region (stack names are, and construct paths are within a stack). Characters EKS names cannot hold are
    dropped; a name that loses any, or is longer than 100 characters, ends in a hash of the full path instead.
    """
    stack = Stack.of(scope)  # a stack's name is never a token (aws-cdk-lib refuses one)
    below = scope.node.path[len(stack.node.path) :].strip("/").split("/")
    wanted = "-".join([stack.stack_name, *below])
    name = re.sub(r"[^A-Za-z0-9_-]", "", wanted).lstrip("-_")
    if name != wanted or len(name) > MAX_CLUSTER_NAME:
        digest = hashlib.sha256("/".join([stack.stack_name, *below]).encode()).hexdigest()[:8]
        name = f"{name[: MAX_CLUSTER_NAME - len(digest) - 1]}-{digest}"
    return name

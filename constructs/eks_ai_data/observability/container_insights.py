"""Container Insights with GPU metrics: the ``amazon-cloudwatch-observability`` EKS add-on (:class:`ContainerInsights`)."""

from __future__ import annotations

import json
import re
from typing import Any, TypedDict

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from .._cfn import default_child
from .._nag import acknowledge, nag_flatten
from .._validate import KEY, fail, require, require_bool, require_enum, require_resource, unresolved
from ..cluster_interface import IAiCluster, dependencies, require_ai_cluster
from ..identity import IdentityLike, IdentityMode, WorkloadIdentity, identity_mode

ADDON = "amazon-cloudwatch-observability"
#: The agent's service account (CloudWatch user guide, "Quick start with the Amazon CloudWatch Observability EKS
#: add-on": the Pod Identity association names ``cloudwatch-agent`` in ``amazon-cloudwatch``).
NAMESPACE = "amazon-cloudwatch"
SERVICE_ACCOUNT = "cloudwatch-agent"
#: What the agent and Fluent Bit need, written as a least-privilege inline policy rather than the AWS-managed
#: ``CloudWatchAgentServerPolicy`` the quick start names: that policy also allows ``logs:PutRetentionPolicy`` (and
#: ``logs:CreateLogGroup``) on every log group of the account, which would let the agent shorten the retention of
#: the platform's audit and flow logs; and X-Ray (Application Signals, not turned on here) and
#: ``ssm:GetParameter`` on ``AmazonCloudWatch-*`` (the configuration comes from the add-on, not SSM). Kept: metric
#: data, the EC2 describe calls its host metadata uses, and log events to this cluster's Container Insights groups
#: (which the stack creates with their retention).
AGENT_LOG_ACTIONS = (
    "logs:PutLogEvents",
    "logs:CreateLogStream",
    "logs:DescribeLogStreams",
    "logs:CreateLogGroup",
)
AGENT_DESCRIBE_ACTIONS = ("ec2:DescribeVolumes", "ec2:DescribeTags", "logs:DescribeLogGroups")
#: The agent configuration: Container Insights with enhanced observability and accelerated-compute (NVIDIA GPU
#: through the DCGM exporter the add-on runs, and Neuron) metrics (CloudWatch user guide, "Install the CloudWatch
#: agent with the Amazon CloudWatch Observability EKS add-on": ``accelerated_compute_metrics`` opts in or out).
#: Giving ``agent.config`` replaces the chart's default configuration, so Application Signals is off.
AGENT_CONFIG = {
    "logs": {
        "metrics_collected": {
            "kubernetes": {"enhanced_container_insights": True, "accelerated_compute_metrics": True}
        }
    }
}
#: Log groups the agent (``performance``) and Fluent Bit (the others) write to, under
#: ``/aws/containerinsights/<cluster name>/``. Both use a group that exists and create only a missing one, so the
#: stack creates them first, encrypted and with a retention, and the add-on waits for them.
#: The chart's default tolerations, which the add-on's DaemonSets (agent, DCGM exporter, Fluent Bit) inherit when
#: the configuration sets none (aws-observability/helm-charts, charts/amazon-cloudwatch-observability/values.yaml,
#: root ``tolerations``): ``Exists`` without a key tolerates every taint.
CHART_DEFAULT_TOLERATIONS = ({"operator": "Exists"},)
PERFORMANCE_LOG_GROUP = "performance"
CONTAINER_LOG_GROUPS = ("application", "host", "dataplane")
ADDON_VERSION_PATTERN = r"^v\d+\.\d+\.\d+-eksbuild\.\d+$"


class ContainerInsightsOptions(TypedDict, total=False):
    """The :class:`ContainerInsights` props ``StorageMonitoring(container_insights_props=...)`` passes through: every
    prop but ``cluster`` (each monitored cluster). Each has the meaning and default documented on
    :class:`ContainerInsights`."""

    identity: IdentityLike
    addon_version: str | None
    container_logs: bool
    log_retention: logs.RetentionDays
    logs_key: kms.IKey | None


class ContainerInsights(Construct):
    """The ``amazon-cloudwatch-observability`` add-on with its own identity, GPU metrics on, and its log groups.

    - Identity: a role for the ``amazon-cloudwatch/cloudwatch-agent`` service account only, with a least-privilege
      inline policy (see :data:`AGENT_LOG_ACTIONS`; not ``CloudWatchAgentServerPolicy``, which may change the
      retention of every log group), through EKS Pod Identity (an association the add-on waits for: the Pod Identity
      webhook gives credentials only to pods created after it exists) or IRSA (the add-on's
      ``ServiceAccountRoleArn``).
    - Configuration: Container Insights with enhanced observability and ``accelerated_compute_metrics``; container
      logs through Fluent Bit unless ``container_logs=False``. No tolerations are given: the chart's default
      (``tolerations: [{operator: Exists}]``, aws-observability/helm-charts amazon-cloudwatch-observability
      values.yaml) already runs the agent, the DCGM exporter and Fluent Bit on tainted nodes, the platform's GPU,
      Neuron and NVMe nodes included.
    - Log groups: ``/aws/containerinsights/<cluster>/performance`` (and ``application``, ``host``, ``dataplane``
      with container logs) are created by the stack, encrypted with ``logs_key`` (the data key by default, whose
      policy admits CloudWatch Logs for this account's log groups), kept ``log_retention``, and retained.

    :param cluster: the cluster. Required.
    :param identity: ``IdentityMode.POD_IDENTITY`` / ``"pod-identity"`` (recommended by AWS for add-on 3.1.0 and
        later) or ``IdentityMode.IRSA`` / ``"irsa"``. Default: Pod Identity.
    :param addon_version: e.g. ``"v4.7.0-eksbuild.1"``. Default: EKS's default for the cluster version (GPU metrics
        need 1.3.0 or later, EBS NVMe metrics 4.1.0 or later).
    :param container_logs: ship container, host and data-plane logs with Fluent Bit. Default: ``True``.
    :param log_retention: retention of the log groups. Default: one month.
    :param logs_key: key of the log groups. Default: ``cluster.keys.data_key``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster: IAiCluster,
        identity: IdentityLike = IdentityMode.POD_IDENTITY,
        addon_version: str | None = None,
        container_logs: bool = True,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        logs_key: kms.IKey | None = None,
    ) -> None:
        super().__init__(scope, id)
        cluster = require_ai_cluster(self, "cluster", cluster)
        identity = identity_mode(self, "identity", identity)
        if addon_version is not None:
            require(
                self,
                isinstance(addon_version, str) and bool(re.match(ADDON_VERSION_PATTERN, addon_version)),
                "addon_version",
                addon_version,
                "must be an EKS add-on version like 'v4.7.0-eksbuild.1'",
            )
        if logs_key is not None:
            require_resource(self, "logs_key", logs_key, *KEY)
        require_enum(self, "log_retention", log_retention, logs.RetentionDays)
        require_bool(self, "container_logs", container_logs)
        self.cluster = cluster
        cluster_name = cluster.cluster.cluster_name
        key = logs_key if logs_key is not None else cluster.keys.data_key

        self.log_groups: dict[str, logs.LogGroup] = {}
        for name in (PERFORMANCE_LOG_GROUP, *(CONTAINER_LOG_GROUPS if container_logs else ())):
            self.log_groups[name] = logs.LogGroup(
                self,
                f"LogGroup-{name}",
                log_group_name=f"/aws/containerinsights/{cluster_name}/{name}",
                encryption_key=key,
                retention=log_retention,
                removal_policy=RemovalPolicy.RETAIN,
            )

        mode = identity
        self.identity = WorkloadIdentity(
            self,
            "AgentIdentity",
            cluster=cluster.cluster,
            namespace=NAMESPACE,
            service_account=SERVICE_ACCOUNT,
            mode=mode,
            description=f"{ADDON} add-on: CloudWatch agent ({NAMESPACE}/{SERVICE_ACCOUNT}) through {identity.label}",
        )
        self.role: iam.Role = self.identity.role
        groups = Stack.of(self).format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"/aws/containerinsights/{cluster_name}/*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        self.role.add_to_policy(
            iam.PolicyStatement(actions=list(AGENT_LOG_ACTIONS), resources=[groups, f"{groups}:*"])
        )
        self.role.add_to_policy(iam.PolicyStatement(actions=list(AGENT_DESCRIBE_ACTIONS), resources=["*"]))
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": ["ContainerInsights", "CWAgent"]}},
            )
        )
        reason = (
            "the agent writes log events only to this cluster's Container Insights log groups "
            "(/aws/containerinsights/<cluster>/*, created by the stack); ec2:DescribeVolumes/DescribeTags, "
            "logs:DescribeLogGroups and cloudwatch:PutMetricData have no resource-level permissions (PutMetricData "
            "is limited to the ContainerInsights and CWAgent namespaces)"
        )
        for resource in (groups, f"{groups}:*", "*"):
            finding = "Resource::" + nag_flatten(Stack.of(self).resolve(resource))
            acknowledge(self.role, "IAM5", reason, finding=finding)

        values: dict[str, Any] = {
            "agent": {"config": AGENT_CONFIG},
            "containerLogs": {"enabled": container_logs},
        }
        self.configuration_values = values
        self.addon = eks.Addon(
            self,
            "Addon",
            cluster=cluster.cluster,
            addon_name=ADDON,
            addon_version=addon_version,
            configuration_values=values,
            preserve_on_delete=False,
        )
        cfn = default_child(self.addon, eks.CfnAddon)
        if mode is IdentityMode.IRSA:
            cfn.add_property_override("ServiceAccountRoleArn", self.role.role_arn)
        else:
            self.addon.node.add_dependency(self.identity.pod_identity_association)
        for dependency in dependencies(cluster.node_dependency, cluster.pod_identity_agent):
            self.addon.node.add_dependency(dependency)
        for group in self.log_groups.values():
            self.addon.node.add_dependency(group)
        self._ebs_enabled: set[str] = set()

    def enable_ebs_metrics(self, drivers: Any) -> bool:
        """Turn on the EBS CSI driver's NVMe metrics (``node.enableMetrics``), which Container Insights' EBS volume
        metrics need (CloudWatch user guide, enhanced observability metrics, "Amazon EBS NVMe driver metrics").

        ``drivers`` is a :class:`~eks_ai_data.csi.StorageDrivers`; its EBS add-on's configuration values are merged
        with ``{"node": {"enableMetrics": true}}``. Returns whether the drivers have an EBS add-on.
        """
        addon = getattr(drivers, "addons", {}).get("aws-ebs-csi-driver")
        if addon is None:
            return False
        cfn = default_child(addon, eks.CfnAddon)
        key = cfn.node.path
        if key in self._ebs_enabled:
            return True
        current = Stack.of(cfn).resolve(cfn.configuration_values)
        if unresolved(current) or not isinstance(current, (str, type(None))):
            raise fail(
                self,
                "drivers",
                drivers.node.path,
                "the EBS add-on's configuration values must be concrete to add node.enableMetrics",
            )
        values: dict[str, Any] = json.loads(current) if current else {}
        node = values.setdefault("node", {})
        if not isinstance(node, dict):
            raise fail(self, "drivers", drivers.node.path, "the EBS add-on's 'node' values must be an object")
        node["enableMetrics"] = True
        cfn.add_property_override("ConfigurationValues", json.dumps(values, sort_keys=True))
        self._ebs_enabled.add(key)
        return True

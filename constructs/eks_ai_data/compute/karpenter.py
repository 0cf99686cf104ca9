"""Karpenter, the alternative capacity engine (:class:`Karpenter`): the controller and what it needs in AWS.

NodePools and EC2NodeClasses are separate constructs (:class:`~eks_ai_data.compute.node_pools.GpuNodePool`,
:class:`~eks_ai_data.compute.node_pools.NvmeNodePool`), applied after the controller and its CRDs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .._nag import acknowledge, acknowledge_inline_policy
from .._validate import KEY, fail, require_bool, require_int, require_mapping, require_resource
from ..capacity_versions import KARPENTER_CHART, KARPENTER_CRD_CHART, KARPENTER_VERSION, karpenter_supports
from ..cluster_interface import IAiCluster, require_ai_cluster
from ..identity import IdentityLike, IdentityMode, identity_mode
from ..node_role import node_role
from ._helm import controller_identity, helm_release, identity_dependencies, service_account_values
from ._nag_findings import acknowledge_wildcards
from .karpenter_iam import controller_statements

NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "karpenter"
RELEASE = "karpenter"
#: EC2 events Karpenter handles from its queue (cloudformation.yaml of the getting-started guide, v1.14: the
#: ScheduledChange, SpotInterruption, Rebalance, InstanceStateChange and CapacityReservationInterruption rules).
INTERRUPTION_EVENTS = {
    "ScheduledChange": ("aws.health", "AWS Health Event"),
    "SpotInterruption": ("aws.ec2", "EC2 Spot Instance Interruption Warning"),
    "Rebalance": ("aws.ec2", "EC2 Instance Rebalance Recommendation"),
    "InstanceStateChange": ("aws.ec2", "EC2 Instance State-change Notification"),
    "CapacityReservationInterruption": ("aws.ec2", "EC2 Capacity Reservation Instance Interruption Warning"),
}


class Karpenter(Construct):
    """Karpenter 1.14 (official charts ``karpenter-crd`` and ``karpenter``) on ``cluster``, with:

    - a controller role through EKS Pod Identity (or IRSA), with Karpenter's own scoped statements
      (:mod:`~eks_ai_data.compute.karpenter_iam`);
    - a node role (worker-node and ECR pull-only policies, as every platform node; the VPC CNI has its own role)
      and an ``EC2_LINUX`` access entry for it, so Karpenter's nodes join the cluster (access entries only: no
      aws-auth);
    - the interruption queue (SQS, messages kept 5 minutes, TLS only, SQS-managed encryption) fed by the five
      EventBridge rules, so Karpenter drains nodes before Spot reclaims them, on scheduled maintenance, and
      before a capacity block ends;
    - the controller on the system nodes (two replicas, ``system-cluster-critical``, requesting 0.5 CPU and 1 GiB
      each: Karpenter's getting-started guide gives 1 CPU, but the default system nodes have 2 vCPUs and also run
      CoreDNS, the CSI controllers and the add-on DaemonSets), with ``AWS_REGION`` set so it never asks the
      instance metadata service.

    :param cluster: the cluster (Kubernetes 1.33-1.36). Required.
    :param identity: ``IdentityMode.POD_IDENTITY`` / ``"pod-identity"`` or ``IdentityMode.IRSA`` / ``"irsa"``.
        Default: Pod Identity.
    :param replicas: controller replicas (each on its own node). Default: 2.
    :param node_repair: Karpenter's node repair (feature gate ``nodeRepair``, alpha in 1.14: replaces nodes whose
        conditions the node monitoring agent reports unhealthy). Default: ``False``.
    :param extra_values: chart values merged over the computed ones (top-level keys replace), e.g.
        ``{"controller": {...}}`` for other resources. Default: none.

    Attributes: ``node_role``, ``identity``, ``queue``, ``crd_chart``, ``chart``, ``access_entry``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster: IAiCluster,
        identity: IdentityLike = IdentityMode.POD_IDENTITY,
        replicas: int = 2,
        node_repair: bool = False,
        extra_values: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(scope, id)
        cluster = require_ai_cluster(self, "cluster", cluster)
        if not karpenter_supports(cluster.kubernetes_version):
            raise fail(
                self,
                "cluster.kubernetes_version",
                cluster.kubernetes_version,
                f"is not supported by Karpenter {KARPENTER_VERSION} (website/content/en/docs/upgrading/"
                "compatibility.md)",
            )
        identity = identity_mode(self, "identity", identity)
        require_int(self, "replicas", replicas, 1, 5)
        require_bool(self, "node_repair", node_repair)
        extra_values = require_mapping(self, "extra_values", extra_values, "a mapping of Helm values")
        self.cluster = cluster
        self.version = KARPENTER_VERSION
        cluster_name = cluster.cluster.cluster_name

        self.node_role = node_role(self, "NodeRole")
        self.access_entry = eks.AccessEntry(
            self,
            "NodeAccess",
            cluster=cluster.cluster,
            principal=self.node_role.role_arn,
            access_entry_type=eks.AccessEntryType.EC2_LINUX,
            access_policies=[],
        )

        self.queue = sqs.Queue(
            self,
            "InterruptionQueue",
            retention_period=Duration.minutes(5),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.queue,
            "SQS3",
            "Karpenter consumes interruption notices within seconds and they expire after 5 minutes; a dead-letter "
            "queue of stale notices would be acted on by nobody",
        )
        self.rules = {
            name: events.Rule(
                self,
                f"{name}Rule",
                event_pattern=events.EventPattern(source=[source], detail_type=[detail_type]),
                targets=[targets.SqsQueue(self.queue)],
            )
            for name, (source, detail_type) in INTERRUPTION_EVENTS.items()
        }

        self.identity = controller_identity(
            self,
            cluster,
            service_account=SERVICE_ACCOUNT,
            mode=identity,
            description="Karpenter controller (kube-system/karpenter): launches and removes this cluster's nodes",
        )
        statements = controller_statements(
            self, cluster_name=cluster_name, node_role=self.node_role, queue=self.queue
        )
        self.controller_policy = iam.Policy(
            self, "ControllerPolicy", roles=[self.identity.role], statements=statements
        )
        acknowledge_inline_policy(self.controller_policy)
        acknowledge_wildcards(
            self.controller_policy,
            statements,
            "Karpenter launches, tags and terminates instances whose ids it cannot know in advance: each wildcard "
            "resource is limited by this cluster's ownership tags (kubernetes.io/cluster/<cluster>, "
            "karpenter.sh/nodepool, karpenter.k8s.aws/ec2nodeclass) or the Region, or serves a read action "
            "without resource-level permissions (Karpenter's own policy, getting-started cloudformation.yaml)",
        )
        self._volume_keys: list[str] = []

        self.crd_chart = helm_release(
            self, "CrdChart", cluster=cluster, chart=KARPENTER_CRD_CHART, release="karpenter-crd"
        )
        self.values: dict[str, Any] = {
            "serviceAccount": service_account_values(self.identity),
            "replicas": replicas,
            "nodeSelector": {"kubernetes.io/os": "linux", **cluster.system_node_labels},
            "priorityClassName": "system-cluster-critical",
            "settings": {
                "clusterName": cluster_name,
                "interruptionQueue": self.queue.queue_name,
                "featureGates": {"nodeRepair": node_repair, "reservedCapacity": True},
            },
            "controller": {
                "env": [{"name": "AWS_REGION", "value": Stack.of(self).region}],
                "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "1Gi"}},
            },
        }
        self.values.update(extra_values or {})
        self.chart = helm_release(
            self,
            "Chart",
            cluster=cluster,
            chart=KARPENTER_CHART,
            release=RELEASE,
            values=self.values,
            skip_crds=True,  # the karpenter-crd release manages them (upgrade guide: Helm never upgrades crds/)
            after=[
                self.crd_chart,
                self.controller_policy,
                self.access_entry,
                *identity_dependencies(cluster, self.identity),
            ],
        )

    def grant_volume_key(self, key: kms.IKey) -> None:
        """Let the controller launch instances whose EBS volumes ``key`` encrypts (once per key): EC2 uses the
        caller's permissions on the key, through EC2 in this Region only (EBS user guide, "Key policy requirements
        for EBS encryption"; an EC2NodeClass names the key in ``blockDeviceMappings[].ebs.kmsKeyID``)."""
        require_resource(self, "key", key, *KEY)
        arn = key.key_arn
        if any(Stack.of(self).resolve(arn) == Stack.of(self).resolve(k) for k in self._volume_keys):
            return
        self._volume_keys.append(arn)
        via_ec2 = {"kms:ViaService": f"ec2.{Stack.of(self).region}.amazonaws.com"}
        self.controller_policy.add_statements(
            iam.PolicyStatement(
                actions=[
                    "kms:Decrypt",
                    "kms:DescribeKey",
                    "kms:GenerateDataKeyWithoutPlaintext",
                    "kms:ReEncryptFrom",
                    "kms:ReEncryptTo",
                ],
                resources=[arn],
                conditions={"StringEquals": via_ec2},
            ),
            iam.PolicyStatement(
                actions=["kms:CreateGrant"],
                resources=[arn],
                conditions={"StringEquals": via_ec2, "Bool": {"kms:GrantIsForAWSResource": "true"}},
            ),
        )

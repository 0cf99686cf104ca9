"""The Cluster Autoscaler for the platform's managed node groups (:class:`ClusterAutoscaler`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from .._validate import fail, require, require_duration
from ..capacity_versions import (
    CLUSTER_AUTOSCALER_CHART,
    CLUSTER_AUTOSCALER_IMAGE,
    cluster_autoscaler_image_tag,
)
from ..cluster_interface import IAiCluster, require_ai_cluster
from ..identity import IdentityLike, IdentityMode, identity_mode
from ..scale_from_zero import EKS_ASG_CLUSTER_TAG
from ._helm import controller_identity, helm_release, identity_dependencies, service_account_values
from ._nag_findings import acknowledge_wildcards

NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "cluster-autoscaler"
RELEASE = "cluster-autoscaler"
#: Expanders the AWS provider implements (``cluster-autoscaler/FAQ.md``; ``price`` "works only for GCE, GKE and
#: Equinix Metal", ``grpc`` needs a server of one's own).
EXPANDERS = ("least-waste", "most-pods", "least-nodes", "random", "priority")
#: Cluster Autoscaler flag names (its FAQ, "What are the parameters to CA?"): lower-case words joined by '-'.
CA_FLAG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*\Z")
#: Flags the construct's own props set (given again in extra_args they would silently win over the prop).
_PROP_FLAGS = (
    "expander",
    "scale-down-unneeded-time",
    "scale-down-delay-after-add",
    "max-node-provision-time",
)

#: "Full Cluster Autoscaler Features Policy (Recommended)" (kubernetes/autoscaler ``cloudprovider/aws/README.md``):
#: the read actions, which support no resource-level permissions (the README keeps them on ``*``)...
READ_ACTIONS = (
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeLaunchConfigurations",
    "autoscaling:DescribeScalingActivities",
    "ec2:DescribeImages",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeLaunchTemplateVersions",
    "ec2:GetInstanceTypesFromInstanceRequirements",
)
#: ...and the two that change a group, which "should be updated to restrict the resources/add conditionals".
SCALE_ACTIONS = ("autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup")


def _minutes(scope: Construct, prop: str, value: Duration) -> str:
    require_duration(scope, prop, value, example="Duration.minutes(15)")
    minutes = value.to_minutes(integral=False)
    if not float(minutes).is_integer():
        raise fail(scope, prop, value.to_human_string(), "must be a whole number of minutes")
    require(
        scope, 1 <= minutes <= 24 * 60, prop, f"{minutes} minutes", "must be between 1 minute and 24 hours"
    )
    return f"{int(minutes)}m"


class ClusterAutoscaler(Construct):
    """The Cluster Autoscaler (official Helm chart, image matching the cluster's Kubernetes minor), scaling the EKS
    managed node groups of ``cluster`` from zero and back.

    - Discovery: every Auto Scaling group tagged ``k8s.io/cluster-autoscaler/enabled`` and
      ``k8s.io/cluster-autoscaler/<cluster name>`` (EKS tags managed node groups so; :class:`GpuNodeGroup` and
      :class:`NvmeNodeGroup` also write their node templates there, so CA scales them up from zero for pods that
      need their labels, taints, GPUs, Neuron devices, EFA interfaces, storage and zone).
    - Identity: its own role through EKS Pod Identity (or IRSA) with the README's recommended actions: reads on
      ``*`` (no resource-level permissions), ``eks:DescribeNodegroup`` on this cluster's node groups, and
      ``SetDesiredCapacity`` / ``TerminateInstanceInAutoScalingGroup`` only on Auto Scaling groups that EKS tagged
      ``eks:cluster-name=<this cluster>``.
    - Runs on the system nodes (``system-cluster-critical``), with ``AWS_REGION`` set so it never asks the instance
      metadata service (the nodes allow one hop: pods cannot reach it).
    - Scale-down for training: a node is removed only after ``scale_down_unneeded_time`` unneeded, never while it
      runs a pod with local storage (``emptyDir``: training scratch) or a pod annotated
      ``cluster-autoscaler.kubernetes.io/safe-to-evict: "false"``, and a GPU node only when no pod requests its
      GPUs (the GPU groups' own scale-down threshold of 0).

    :param cluster: the cluster. Required.
    :param identity: ``IdentityMode.POD_IDENTITY`` / ``"pod-identity"`` or ``IdentityMode.IRSA`` / ``"irsa"``.
        Default: Pod Identity.
    :param scale_down_unneeded_time: how long a node must be unneeded before it is removed (what an idle GPU node
        costs before it goes; a job resubmitted within it finds its nodes). Default: 15 minutes.
    :param scale_down_delay_after_add: no scale-down for this long after a scale-up. Default: 10 minutes.
    :param max_node_provision_time: a node not registered after this long is given up (CA tries another group).
        Default: 20 minutes (large GPU types with EFA take longer than CA's default 15).
    :param expander: how CA picks among groups that fit (:data:`EXPANDERS`). Default: ``least-waste``.
    :param extra_args: further CA flags (``{"balance-similar-node-groups": "true"}``), merged last. Default: none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster: IAiCluster,
        identity: IdentityLike = IdentityMode.POD_IDENTITY,
        scale_down_unneeded_time: Duration | None = None,
        scale_down_delay_after_add: Duration | None = None,
        max_node_provision_time: Duration | None = None,
        expander: str = "least-waste",
        extra_args: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, id)
        cluster = require_ai_cluster(self, "cluster", cluster)
        image_tag = cluster_autoscaler_image_tag(cluster.kubernetes_version)
        if image_tag is None:
            raise fail(
                self,
                "cluster.kubernetes_version",
                cluster.kubernetes_version,
                "has no Cluster Autoscaler release pinned (eks_ai_data.capacity_versions.CLUSTER_AUTOSCALER_RELEASES)",
            )
        identity = identity_mode(self, "identity", identity)
        # one expander, or a chain tried in order ("--expander=priority,least-waste": CA 1.23 and later, FAQ.md
        # "What are Expanders?")
        chain = expander.split(",") if isinstance(expander, str) else [expander]
        require(
            self,
            all(name in EXPANDERS for name in chain) and len(set(chain)) == len(chain),
            "expander",
            expander,
            f"must be one of {list(EXPANDERS)}, or several of them without repeats joined by ',' "
            "(e.g. 'priority,least-waste')",
        )
        args: dict[str, Any] = {
            "expander": expander,
            "scale-down-unneeded-time": _minutes(
                self, "scale_down_unneeded_time", scale_down_unneeded_time or Duration.minutes(15)
            ),
            "scale-down-delay-after-add": _minutes(
                self, "scale_down_delay_after_add", scale_down_delay_after_add or Duration.minutes(10)
            ),
            "max-node-provision-time": _minutes(
                self, "max_node_provision_time", max_node_provision_time or Duration.minutes(20)
            ),
            # CA's defaults, stated: nodes with emptyDir/hostPath pods or kube-system pods stay
            "skip-nodes-with-local-storage": "true",
            "skip-nodes-with-system-pods": "true",
        }
        for key in extra_args or {}:
            require(
                self,
                key not in ("cloud-provider", "namespace", "node-group-auto-discovery"),
                "extra_args",
                key,
                "is set by the construct (auto-discovery of this cluster's groups)",
            )
            # the chart's extraArgs map is rendered as --<key>=<value>: a key with the dashes would become ----key
            require(
                self,
                isinstance(key, str) and bool(CA_FLAG.match(key)),
                "extra_args",
                key,
                "must be a Cluster Autoscaler flag name without the leading '--', e.g. 'balance-similar-node-groups'",
            )
            if key in _PROP_FLAGS:
                raise fail(
                    self,
                    "extra_args",
                    key,
                    f"is set by its own prop ({key.replace('-', '_')}): pass it there",
                )
        args.update(extra_args or {})

        self.cluster = cluster
        self.image = f"{CLUSTER_AUTOSCALER_IMAGE}:{image_tag}"
        self.identity = controller_identity(
            self,
            cluster,
            service_account=SERVICE_ACCOUNT,
            mode=identity,
            description="Cluster Autoscaler (kube-system/cluster-autoscaler): scales this cluster's node groups",
        )
        self._grant(cluster)

        self.values: dict[str, Any] = {
            "cloudProvider": "aws",
            "awsRegion": Stack.of(self).region,
            "autoDiscovery": {"clusterName": cluster.cluster.cluster_name},
            "image": {"repository": CLUSTER_AUTOSCALER_IMAGE, "tag": image_tag},
            "rbac": {"serviceAccount": service_account_values(self.identity)},
            "nodeSelector": dict(cluster.system_node_labels),
            "priorityClassName": "system-cluster-critical",
            "resources": {"requests": {"cpu": "100m", "memory": "600Mi"}, "limits": {"memory": "600Mi"}},
            "extraArgs": args,
        }
        self.chart = helm_release(
            self,
            "Chart",
            cluster=cluster,
            chart=CLUSTER_AUTOSCALER_CHART,
            release=RELEASE,
            values=self.values,
            after=identity_dependencies(cluster, self.identity),
        )

    def _grant(self, cluster: IAiCluster) -> None:
        stack = Stack.of(self)
        cluster_name = cluster.cluster.cluster_name
        statements = [
            iam.PolicyStatement(sid="Read", actions=list(READ_ACTIONS), resources=["*"]),
            iam.PolicyStatement(
                sid="DescribeNodegroups",
                actions=["eks:DescribeNodegroup"],
                resources=[
                    stack.format_arn(service="eks", resource="nodegroup", resource_name=f"{cluster_name}/*/*")
                ],
            ),
            iam.PolicyStatement(
                sid="ScaleThisClustersNodeGroups",
                actions=list(SCALE_ACTIONS),
                resources=[
                    stack.format_arn(
                        service="autoscaling",
                        resource="autoScalingGroup",
                        resource_name="*:autoScalingGroupName/eks-*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
                # EC2 Auto Scaling user guide, "Tags for security": EKS tags each node group's Auto Scaling group
                # eks:cluster-name=<cluster> (the tag CA itself reads to call DescribeNodegroup).
                conditions={"StringEquals": {f"autoscaling:ResourceTag/{EKS_ASG_CLUSTER_TAG}": cluster_name}},
            ),
        ]
        for statement in statements:
            self.identity.role.add_to_policy(statement)
        acknowledge_wildcards(
            self.identity.role,
            statements,
            "describe actions support no resource-level permissions (Cluster Autoscaler AWS README, recommended "
            "policy); eks:DescribeNodegroup is limited to this cluster's node groups, and scaling to Auto Scaling "
            "groups that EKS tagged with this cluster's name (their names are chosen by EKS)",
        )

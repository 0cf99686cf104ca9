"""The Karpenter controller's permissions, statement by statement as Karpenter's getting-started CloudFormation
template has them (aws/karpenter-provider-aws ``website/content/en/docs/getting-started/getting-started-with-karpenter/
cloudformation.yaml``, v1.14: NodeLifecycle, IAMIntegration, EKSIntegration, Interruption and ResourceDiscovery
policies; the ZonalShift policy is left out with ``settings.enableZonalShift`` off).

Karpenter may launch, tag and terminate only what it tags ``kubernetes.io/cluster/<cluster>=owned`` and
``karpenter.sh/nodepool``, pass only its node role to EC2, and manage only instance profiles it tags for this
cluster and Region. Condition keys hold the cluster name, a deploy-time value: they are rendered through
``CfnJson`` (the upstream template uses ``!Sub`` JSON strings for the same reason).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnJson, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

_LAUNCH = ("fleet", "instance", "volume", "network-interface", "launch-template", "spot-instances-request")


def _conditions(scope: Construct, sid: str, conditions: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Conditions whose keys may hold tokens: each operator block with a token key becomes a ``CfnJson``."""
    out: dict[str, Any] = {}
    for operator, block in conditions.items():
        if any(Token.is_unresolved(key) for key in block):
            out[operator] = CfnJson(scope, f"{sid}{operator.replace(':', '')}", value=block)
        else:
            out[operator] = block
    return out


def controller_statements(
    scope: Construct, *, cluster_name: str, node_role: iam.IRole, queue: sqs.IQueue | None
) -> list[iam.PolicyStatement]:
    """The controller role's statements (see the module docstring)."""
    stack = Stack.of(scope)
    p, r, a = stack.partition, stack.region, stack.account
    owned = f"kubernetes.io/cluster/{cluster_name}"

    def ec2(kind: str, account: str = "*") -> str:
        return f"arn:{p}:ec2:{r}:{account}:{kind}/*"

    profile = f"arn:{p}:iam::{a}:instance-profile/*"

    def statement(sid: str, actions: list[str], resources: list[str], conditions: dict | None = None):
        return iam.PolicyStatement(
            sid=sid,
            actions=actions,
            resources=resources,
            conditions=_conditions(scope, sid, conditions) if conditions else None,
        )

    launch = [ec2(kind) for kind in _LAUNCH]
    statements = [
        # -- NodeLifecycle
        statement(
            "AllowScopedEC2InstanceAccessActions",
            ["ec2:RunInstances", "ec2:CreateFleet"],
            [
                ec2("image", ""),
                ec2("snapshot", ""),
                ec2("security-group"),
                ec2("subnet"),
                ec2("capacity-reservation"),
                ec2("placement-group"),
            ],
        ),
        statement(
            "AllowScopedEC2LaunchTemplateAccessActions",
            ["ec2:RunInstances", "ec2:CreateFleet"],
            [ec2("launch-template")],
            {
                "StringEquals": {f"aws:ResourceTag/{owned}": "owned"},
                "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"},
            },
        ),
        statement(
            "AllowScopedEC2InstanceActionsWithTags",
            ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
            launch,
            {
                "StringEquals": {
                    f"aws:RequestTag/{owned}": "owned",
                    "aws:RequestTag/eks:eks-cluster-name": cluster_name,
                },
                "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"},
            },
        ),
        statement(
            "AllowScopedResourceCreationTagging",
            ["ec2:CreateTags"],
            launch,
            {
                "StringEquals": {
                    f"aws:RequestTag/{owned}": "owned",
                    "aws:RequestTag/eks:eks-cluster-name": cluster_name,
                    "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"],
                },
                "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"},
            },
        ),
        statement(
            "AllowScopedResourceTagging",
            ["ec2:CreateTags"],
            [ec2("instance")],
            {
                "StringEquals": {f"aws:ResourceTag/{owned}": "owned"},
                "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"},
                "StringEqualsIfExists": {"aws:RequestTag/eks:eks-cluster-name": cluster_name},
                "ForAllValues:StringEquals": {
                    "aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"]
                },
            },
        ),
        statement(
            "AllowScopedDeletion",
            ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
            [ec2("instance"), ec2("launch-template")],
            {
                "StringEquals": {f"aws:ResourceTag/{owned}": "owned"},
                "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"},
            },
        ),
        # -- IAMIntegration
        statement(
            "AllowPassingInstanceRole",
            ["iam:PassRole"],
            [node_role.role_arn],
            {"StringEquals": {"iam:PassedToService": ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"]}},
        ),
        statement(
            "AllowScopedInstanceProfileCreationActions",
            ["iam:CreateInstanceProfile"],
            [profile],
            {
                "StringEquals": {
                    f"aws:RequestTag/{owned}": "owned",
                    "aws:RequestTag/eks:eks-cluster-name": cluster_name,
                    "aws:RequestTag/topology.kubernetes.io/region": r,
                },
                "StringLike": {"aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*"},
            },
        ),
        statement(
            "AllowScopedInstanceProfileTagActions",
            ["iam:TagInstanceProfile"],
            [profile],
            {
                "StringEquals": {
                    f"aws:ResourceTag/{owned}": "owned",
                    "aws:ResourceTag/topology.kubernetes.io/region": r,
                    f"aws:RequestTag/{owned}": "owned",
                    "aws:RequestTag/eks:eks-cluster-name": cluster_name,
                    "aws:RequestTag/topology.kubernetes.io/region": r,
                },
                "StringLike": {
                    "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*",
                    "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*",
                },
            },
        ),
        statement(
            "AllowScopedInstanceProfileActions",
            [
                "iam:AddRoleToInstanceProfile",
                "iam:RemoveRoleFromInstanceProfile",
                "iam:DeleteInstanceProfile",
            ],
            [profile],
            {
                "StringEquals": {
                    f"aws:ResourceTag/{owned}": "owned",
                    "aws:ResourceTag/topology.kubernetes.io/region": r,
                },
                "StringLike": {"aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*"},
            },
        ),
        # -- EKSIntegration
        statement(
            "AllowAPIServerEndpointDiscovery",
            ["eks:DescribeCluster"],
            [f"arn:{p}:eks:{r}:{a}:cluster/{cluster_name}"],
        ),
        # -- ResourceDiscovery
        statement(
            "AllowRegionalReadActions",
            [
                "ec2:DescribeCapacityReservations",
                "ec2:DescribeImages",
                "ec2:DescribeInstances",
                "ec2:DescribeInstanceStatus",
                "ec2:DescribeInstanceTypeOfferings",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplates",
                "ec2:DescribePlacementGroups",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSpotPriceHistory",
                "ec2:DescribeSubnets",
            ],
            ["*"],
            {"StringEquals": {"aws:RequestedRegion": r}},
        ),
        statement("AllowSSMReadActions", ["ssm:GetParameter"], [f"arn:{p}:ssm:{r}::parameter/aws/service/*"]),
        statement("AllowPricingReadActions", ["pricing:GetProducts"], ["*"]),
        statement("AllowUnscopedInstanceProfileListAction", ["iam:ListInstanceProfiles"], ["*"]),
        statement("AllowInstanceProfileReadActions", ["iam:GetInstanceProfile"], [profile]),
    ]
    if queue is not None:
        # -- Interruption
        statements.append(
            statement(
                "AllowInterruptionQueueActions",
                ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
                [queue.queue_arn],
            )
        )
    return statements

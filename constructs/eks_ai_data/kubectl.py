"""The kubectl provider a cluster applies charts through, for created and imported clusters alike."""

from __future__ import annotations

import importlib

from aws_cdk import CfnCondition, Stack
from aws_cdk import aws_eks_v2 as eks
from constructs import Construct

from ._nag import acknowledge, managed_policy_finding
from ._validate import fail, unresolved
from .versions import DEFAULT_KUBERNETES_VERSION, SUPPORTED_RELEASES, release

#: AWS-managed policies aws-cdk-lib attaches to the kubectl provider's handler role (aws-eks-v2/lib/kubectl-provider.js).
KUBECTL_HANDLER_POLICIES = (
    "service-role/AWSLambdaBasicExecutionRole",
    "service-role/AWSLambdaVPCAccessExecutionRole",
    "AmazonEC2ContainerRegistryReadOnly",
)


def kubectl_layer_class(scope: Construct, version: str, prop: str = "version") -> type:
    """The ``KubectlVNNLayer`` class for Kubernetes ``version``, or a clear error naming the package to install."""
    if unresolved(version):
        raise fail(scope, prop, version, "must be a concrete Kubernetes version, not a token")
    facts = release(version)
    if facts is None:
        raise fail(
            scope,
            prop,
            version,
            f"no kubectl layer is known for it; supported versions: {sorted(SUPPORTED_RELEASES)}",
        )
    try:
        module = importlib.import_module(facts.kubectl_layer_module)
    except ModuleNotFoundError:
        raise fail(
            scope,
            prop,
            version,
            f"needs the kubectl layer package '{facts.kubectl_layer_package}': pip install it "
            f"(only the default version's layer, {DEFAULT_KUBERNETES_VERSION}, ships with eks-ai-data)",
        ) from None
    return getattr(module, facts.kubectl_layer_class)


def acknowledge_kubectl_provider(provider: Construct) -> None:
    """cdk-nag AwsSolutions findings on aws-cdk-lib's kubectl provider, which we do not get to shape.

    The handler role carries the AWS-managed Lambda execution and ECR read-only policies (the handler runs in the
    VPC and pulls nothing but its layers; ECR read-only lets Helm pull charts from ECR), the provider framework may
    invoke any version of its own handler, and aws-cdk-lib pins the handler's runtime.
    """
    stack = Stack.of(provider)
    handler = provider.node.find_child("Handler")
    handler_id = stack.resolve(stack.get_logical_id(handler.node.default_child))
    findings = [managed_policy_finding(name) for name in KUBECTL_HANDLER_POLICIES]
    for condition in provider.node.find_all():
        if isinstance(condition, CfnCondition):
            cid = stack.resolve(stack.get_logical_id(condition))
            public_ecr = (
                '{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},'
                '":iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly"]]}'
            )
            findings.append(f'Policy::{{"Fn::If":["{cid}",{public_ecr},{{"Ref":"AWS::NoValue"}}]}}')
    for finding in findings:
        acknowledge(
            provider,
            "IAM4",
            "aws-cdk-lib's kubectl provider Lambdas use the AWS-managed Lambda execution policies (to run in the "
            "VPC) and ECR read-only policies (Helm charts stored in ECR); the provider's roles are aws-cdk-lib's",
            finding=finding,
        )
    acknowledge(
        provider,
        "IAM5",
        "the provider framework may invoke any version of its own handler function (<handler ARN>:*)",
        finding=f"Resource::<{handler_id}.Arn>:*",
    )
    acknowledge(
        provider, "L1", "aws-cdk-lib pins the kubectl provider's runtime; it moves with aws-cdk-lib upgrades"
    )


def cluster_admin_policy() -> eks.AccessPolicy:
    """``AmazonEKSClusterAdminPolicy`` at cluster scope (what kubectl and Helm need to apply any object)."""
    return eks.AccessPolicy.from_access_policy_name(
        "AmazonEKSClusterAdminPolicy", access_scope_type=eks.AccessScopeType.CLUSTER
    )

"""The kubectl provider a cluster applies charts through, for created and imported clusters alike."""

from __future__ import annotations

import importlib

from aws_cdk import CfnCondition, CfnElement, Stack
from aws_cdk import aws_eks_v2 as eks
from constructs import Construct, IConstruct

from ._cfn import default_child
from ._nag import acknowledge, acknowledge_compliance, acknowledge_inline_policy, managed_policy_finding
from ._validate import fail, unresolved
from .versions import DEFAULT_KUBERNETES_VERSION, SUPPORTED_RELEASES, release

#: AWS-managed policies aws-cdk-lib attaches to the kubectl provider's roles (aws-eks-v2 lib/kubectl-provider.js; the
#: aws-eks source comments the ECR ones "For OCI helm chart authorization"), and what each one is for.
KUBECTL_HANDLER_POLICIES = {
    "service-role/AWSLambdaBasicExecutionRole": "lets the provider's functions write their CloudWatch logs",
    "service-role/AWSLambdaVPCAccessExecutionRole": "lets the provider's functions manage their network "
    "interfaces in the VPC's private subnets, where they run",
    "AmazonEC2ContainerRegistryReadOnly": "lets helm in the kubectl handler pull charts stored as OCI artifacts "
    "in private ECR repositories",
}
#: Attached only in the ``aws`` partition (a ``CfnCondition`` on the partition), for the same purpose on ECR Public.
KUBECTL_PUBLIC_ECR_POLICY = "AmazonElasticContainerRegistryPublicReadOnly"


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


def acknowledge_kubectl_provider(provider: IConstruct) -> None:
    """cdk-nag findings on aws-cdk-lib's kubectl provider, which we do not get to shape (aws-eks-v2
    lib/kubectl-provider.js, custom-resources lib/provider-framework).

    - IAM4: the AWS-managed policies aws-cdk-lib attaches (:data:`KUBECTL_HANDLER_POLICIES`, each with its purpose;
      the ECR ones let ``helm`` in the handler pull charts stored as OCI artifacts in ECR, private and public).
    - IAM5: the provider framework may invoke any version of its own handler function (``<handler ARN>:*``).
    - L1: aws-cdk-lib pins the handler's runtime.
    - IAMNoInlinePolicy (NIST 800-53 / HIPAA): both roles' statements are aws-cdk-lib's grants to that one
      function (``eks:DescribeCluster`` on this cluster; invoking the handler).
    - LambdaDLQ: the framework's ``onEvent`` function invokes the handler synchronously (``lambda.invoke``
      without an invocation type is RequestResponse), and a dead-letter queue only receives events of
      asynchronous invocations; the framework wraps ``onEvent`` in a handler that reports any error to
      CloudFormation as FAILED, so no deployment event is dropped; aws-cdk-lib's kubectl provider takes no
      dead-letter queue.
    - LambdaConcurrency: both functions run only while CloudFormation deploys this stack; a reservation would
      take concurrency from every other function of the account and Lambda refuses one that leaves less than
      100 unreserved (Lambda developer guide, "Configuring reserved concurrency"), which fails the deployment in
      accounts with a low concurrency quota.
    """
    stack = Stack.of(provider)
    handler = provider.node.find_child("Handler")
    handler_id = stack.resolve(stack.get_logical_id(default_child(handler, CfnElement)))
    findings = {}
    for name, why in KUBECTL_HANDLER_POLICIES.items():
        short = name.rsplit("/", 1)[-1]
        findings[managed_policy_finding(name)] = (
            f"aws-cdk-lib attaches {short} to its kubectl provider: it {why}"
        )
    for condition in provider.node.find_all():
        if isinstance(condition, CfnCondition):
            cid = stack.resolve(stack.get_logical_id(condition))
            public_ecr = (
                '{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},'
                f'":iam::aws:policy/{KUBECTL_PUBLIC_ECR_POLICY}"]]}}'
            )
            findings[f'Policy::{{"Fn::If":["{cid}",{public_ecr},{{"Ref":"AWS::NoValue"}}]}}'] = (
                f"aws-cdk-lib attaches {KUBECTL_PUBLIC_ECR_POLICY} to its kubectl handler in the aws partition only: "
                "it lets helm pull charts stored as OCI artifacts in ECR Public"
            )
    for finding, reason in findings.items():
        acknowledge(provider, "IAM4", reason, finding=finding)
    acknowledge(
        provider,
        "IAM5",
        "the provider framework may invoke any version of its own handler function (<handler ARN>:*)",
        finding=f"Resource::<{handler_id}.Arn>:*",
    )
    acknowledge(
        provider, "L1", "aws-cdk-lib pins the kubectl provider's runtime; it moves with aws-cdk-lib upgrades"
    )
    on_event = provider.node.find_child("Provider").node.find_child("framework-onEvent")
    for function, dlq_reason in (
        (
            handler,
            "the provider framework's onEvent function invokes this handler synchronously (RequestResponse) and "
            "reports its errors to CloudFormation; a dead-letter queue only receives asynchronous invocations",
        ),
        (
            on_event,
            "aws-cdk-lib's provider framework wraps this function in a handler that reports every error to "
            "CloudFormation as FAILED (the deployment fails visibly, no event is dropped), and the kubectl "
            "provider takes no dead-letter queue",
        ),
    ):
        acknowledge_compliance(function, "LambdaDLQ", dlq_reason)
        acknowledge_compliance(
            function,
            "LambdaConcurrency",
            "runs only while CloudFormation deploys this stack (one invocation per Kubernetes resource event); "
            "reserved concurrency would be taken from every other function of the account, and Lambda refuses a "
            "reservation that leaves less than 100 unreserved, which fails deployments in low-quota accounts",
        )
        # find_child gives an IConstruct; both are lambda Functions, whose role is set (they are not imported)
        role = getattr(function, "role", None)
        if role is not None:
            acknowledge_inline_policy(role)


def cluster_admin_policy() -> eks.IAccessPolicy:
    """``AmazonEKSClusterAdminPolicy`` at cluster scope (what kubectl and Helm need to apply any object)."""
    return eks.AccessPolicy.from_access_policy_name(
        "AmazonEKSClusterAdminPolicy", access_scope_type=eks.AccessScopeType.CLUSTER
    )

"""Tags on the Auto Scaling group EKS creates for a managed node group (:class:`NodegroupAsgTags`).

CloudFormation's ``AWS::EKS::Nodegroup`` has no Auto Scaling group attribute (its read-only properties are ``Arn``
and ``Id``) and node-group tags do not reach the group, so a custom resource does it:
``eks:DescribeNodegroup`` -> ``nodegroup.resources.autoScalingGroups[].name`` (EKS API ``NodegroupResources``) ->
``autoscaling:CreateOrUpdateTags`` with ``PropagateAtLaunch: false`` (the tags describe the group to the Cluster
Autoscaler; instances need none of them).

- Create: tag the group. Update: tag it again (a replaced node group has a new name, hence a new group; on the
  same group, keys no longer wanted are removed). Delete: remove the node-template tags if the node group still
  exists (the auto-discovery tags stay: EKS sets them on every managed node group's Auto Scaling group itself).
- One handler function per stack, outside the VPC (it calls the EKS and Auto Scaling APIs only), with its own log
  group encrypted with the platform's data key. Its role may describe exactly the node groups it serves, and may
  tag or untag only Auto Scaling groups that EKS tagged ``eks:cluster-name`` / ``eks:nodegroup-name`` with one of
  them, only with keys under ``k8s.io/cluster-autoscaler/``.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import ArnFormat, CfnJson, CustomResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from .._cfn import default_child
from .._nag import acknowledge_compliance, acknowledge_inline_policy
from .._validate import KEY, fail, require_cluster_name, require_resource, unresolved
from ..scale_from_zero import EKS_ASG_CLUSTER_TAG, EKS_ASG_NODEGROUP_TAG, TAG_PREFIX
from ._nag_findings import acknowledge_wildcards

RESOURCE_TYPE = "Custom::EksAiDataAsgTags"
_HANDLER_ID = "EksAiDataAsgTagsHandler"

#: The handler (CloudFormation ``ZipFile``: at most 4096 characters). ``apply`` is the logic, ``handler`` answers
#: CloudFormation through the pre-signed response URL whatever happens, so a stack never waits an hour.
HANDLER_CODE = """\
import json, urllib.request
import boto3
from botocore.exceptions import ClientError


def groups(eks, cluster, nodegroup):
    try:
        ng = eks.describe_nodegroup(clusterName=cluster, nodegroupName=nodegroup)["nodegroup"]
    except ClientError as e:
        if e.response["Error"]["Code"] == "ResourceNotFoundException":
            return None
        raise
    return [g["name"] for g in ng.get("resources", {}).get("autoScalingGroups", [])]


def tag(names, tags):
    return [{"ResourceId": n, "ResourceType": "auto-scaling-group", "Key": k, "Value": v,
             "PropagateAtLaunch": False} for n in names for k, v in sorted(tags.items())]


def apply(event, eks, autoscaling):
    props, old = event["ResourceProperties"], event.get("OldResourceProperties") or {}
    cluster, nodegroup = props["ClusterName"], props["NodegroupName"]
    tags = props.get("Tags") or {}
    if event["RequestType"] == "Delete":
        names = groups(eks, cluster, nodegroup)
        if names and tags:
            autoscaling.delete_tags(Tags=tag(names, tags))
        return event["PhysicalResourceId"], {}
    names = groups(eks, cluster, nodegroup)
    if not names:
        raise RuntimeError("node group %s/%s has no Auto Scaling group" % (cluster, nodegroup))
    if (old.get("ClusterName"), old.get("NodegroupName")) == (cluster, nodegroup):
        stale = {k: v for k, v in (old.get("Tags") or {}).items() if k not in tags}
        if stale:
            autoscaling.delete_tags(Tags=tag(names, stale))
    wanted = dict(props.get("DiscoveryTags") or {}, **tags)
    autoscaling.create_or_update_tags(Tags=tag(names, wanted))
    return "%s/%s" % (cluster, nodegroup), {"AutoScalingGroupNames": ",".join(names)}


def handler(event, context):
    status, reason, data = "SUCCESS", "", {}
    physical = event.get("PhysicalResourceId") or event["LogicalResourceId"]
    try:
        physical, data = apply(event, boto3.client("eks"), boto3.client("autoscaling"))
    except Exception as e:
        status, reason = "FAILED", ("%s: %s" % (type(e).__name__, e))[:800]
        print(json.dumps({"error": reason}))
    body = json.dumps({"Status": status, "Reason": reason + " (log stream " + context.log_stream_name + ")",
                       "PhysicalResourceId": physical, "StackId": event["StackId"],
                       "RequestId": event["RequestId"], "LogicalResourceId": event["LogicalResourceId"],
                       "Data": data}).encode()
    request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT",
                                     headers={"Content-Type": "", "Content-Length": str(len(body))})
    urllib.request.urlopen(request, timeout=30)
"""


class _Handler(Construct):
    """The stack's one handler function, its role and its encrypted log group."""

    def __init__(self, scope: Construct, id: str, *, log_key: kms.IKey) -> None:
        super().__init__(scope, id)
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            encryption_key=log_key,
            retention=logs.RetentionDays.ONE_YEAR,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="eks-ai-data: tags the Auto Scaling groups of managed node groups for the Cluster Autoscaler",
        )
        self.log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler="index.handler",
            code=lambda_.Code.from_inline(HANDLER_CODE),
            timeout=Duration.minutes(2),
            memory_size=128,
            role=self.role,
            log_group=self.log_group,
            description="eks-ai-data: Cluster Autoscaler node-template tags on EKS node group Auto Scaling groups",
        )
        self.function.node.add_dependency(self.role)
        # NIST 800-53 / HIPAA findings intrinsic to a deploy-time custom-resource handler:
        acknowledge_inline_policy(self.role)
        acknowledge_compliance(
            self.function,
            "LambdaDLQ",
            "CloudFormation's custom-resource request is answered on every path: the handler catches each error and "
            "PUTs FAILED with it to the request's response URL, so the deployment fails visibly and no event is lost; "
            "a dead-letter queue would hold requests that nothing replays",
        )
        acknowledge_compliance(
            self.function,
            "LambdaConcurrency",
            "runs only while CloudFormation deploys this stack (one invocation per node group change); reserved "
            "concurrency would be taken from every other function of the account, and Lambda refuses a reservation "
            "that leaves less than 100 unreserved (Lambda developer guide, 'Configuring reserved concurrency')",
        )
        acknowledge_compliance(
            self.function,
            "LambdaInsideVPC",
            "the handler reaches only AWS APIs (eks:DescribeNodegroup, Auto Scaling tags) and CloudFormation's "
            "response URL, never the VPC's data stores; outside a VPC it also works on clusters whose subnets have "
            "no NAT gateway or interface endpoints for those services",
        )


def _handler(scope: Construct, log_key: kms.IKey) -> _Handler:
    stack = Stack.of(scope)
    found = stack.node.try_find_child(_HANDLER_ID)
    return found if isinstance(found, _Handler) else _Handler(stack, _HANDLER_ID, log_key=log_key)


class NodegroupAsgTags(Construct):
    """Tags on the Auto Scaling group of ``nodegroup`` (see the module docstring).

    :param nodegroup: the managed node group. Required.
    :param cluster_name: its cluster's name. Required.
    :param tags: the node-template tags (keys under ``k8s.io/cluster-autoscaler/node-template/``), removed again
        when this resource is deleted. Required.
    :param discovery_tags: the auto-discovery tags, written but never removed (EKS sets them too). Default: none.
    :param log_key: the KMS key of the handler's log group (the platform's data key). Required.

    Attributes: ``resource`` (the custom resource; ``AutoScalingGroupNames`` attribute), ``policy``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        nodegroup: eks.Nodegroup,
        cluster_name: str,
        tags: Mapping[str, str],
        discovery_tags: Mapping[str, str] | None = None,
        log_key: kms.IKey,
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        if not hasattr(nodegroup, "nodegroup_name") or isinstance(nodegroup, str):
            raise fail(self, "nodegroup", nodegroup, "must be an eks.Nodegroup (e.g. GpuNodeGroup.nodegroup)")
        require_resource(self, "log_key", log_key, *KEY)
        require_cluster_name(self, cluster_name)
        for prop, given in (("tags", tags), ("discovery_tags", discovery_tags)):
            if given is None and prop == "discovery_tags":
                continue
            if not isinstance(given, Mapping):
                raise fail(self, prop, given, "must be a mapping of tag keys to values")
            for key, value in given.items():
                # Auto Scaling Tag: Key 1-128 characters, Value 0-256, and no 'aws:' prefix (reserved for AWS)
                if unresolved(key) or unresolved(value):
                    continue
                if not (isinstance(key, str) and 1 <= len(key) <= 128 and not key.startswith("aws:")) or not (
                    isinstance(value, str) and len(value) <= 256
                ):
                    raise fail(
                        self,
                        prop,
                        {key: value},
                        "Auto Scaling group tags have keys of 1-128 characters, not starting with 'aws:', and "
                        "values of at most 256 characters",
                    )
        handler = _handler(self, log_key)
        # The L1's attributes, not the L2's nodegroup_name: that one is the resource's Ref (cluster/nodegroup)
        # unless the app sets @aws-cdk/aws-eks:nodegroupNameAttribute.
        cfn = default_child(nodegroup, eks.CfnNodegroup)
        nodegroup_name, nodegroup_arn = cfn.attr_nodegroup_name, cfn.attr_arn
        asg_arn = stack.format_arn(
            service="autoscaling",
            resource="autoScalingGroup",
            resource_name="*:autoScalingGroupName/eks-*",  # EKS names every node-group ASG eks-<...>
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        statements = [
            iam.PolicyStatement(actions=["eks:DescribeNodegroup"], resources=[nodegroup_arn]),
            iam.PolicyStatement(
                actions=["autoscaling:CreateOrUpdateTags", "autoscaling:DeleteTags"],
                resources=[asg_arn],
                conditions={
                    # EC2 Auto Scaling user guide, "Tags for security": autoscaling:ResourceTag/<key> limits
                    # actions on groups by their tags, aws:TagKeys the keys a request may write.
                    "StringEquals": {
                        f"autoscaling:ResourceTag/{EKS_ASG_CLUSTER_TAG}": cluster_name,
                        f"autoscaling:ResourceTag/{EKS_ASG_NODEGROUP_TAG}": nodegroup_name,
                    },
                    "ForAllValues:StringLike": {"aws:TagKeys": [f"{TAG_PREFIX}*"]},
                },
            ),
        ]
        self.policy = iam.Policy(self, "Permissions", roles=[handler.role], statements=statements)
        acknowledge_inline_policy(self.policy)
        acknowledge_wildcards(
            self.policy,
            statements,
            "the Auto Scaling group's name is known only once EKS has created it; the statement is limited to groups "
            "EKS tagged with this cluster and node group, and to keys under k8s.io/cluster-autoscaler/",
        )
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=handler.function.function_arn,
            resource_type=RESOURCE_TYPE,
            properties={
                "ClusterName": cluster_name,
                "NodegroupName": nodegroup_name,
                "Tags": dict(tags),
                # keys hold the cluster name, a deploy-time value: resolved by CloudFormation
                "DiscoveryTags": CfnJson(self, "DiscoveryTags", value=dict(discovery_tags or {})),
            },
        )
        self.resource.node.add_dependency(self.policy)
        self.resource.node.add_dependency(handler.function)
        self.tags = dict(tags)
        self.discovery_tags = dict(discovery_tags or {})

"""ARNs of the AWS service-linked roles that key and bucket policies name (one definition for every policy)."""

from __future__ import annotations

from aws_cdk import Stack

#: EC2 Auto Scaling's service-linked role: managed node groups launch their instances (and encrypted root
#: volumes) through it (EC2 Auto Scaling user guide, "Service-linked roles for Amazon EC2 Auto Scaling").
AUTOSCALING_ROLE = "aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"

#: FSx for Lustre's S3 data-repository service-linked roles, one per file system
#: (``AWSServiceRoleForFSxS3Access_<file system id>``; FSx for Lustre user guide, "Working with server-side
#: encrypted Amazon S3 buckets"). Lustre file-system ids start with ``fs-`` (File Cache's ``fc-`` are excluded).
FSX_S3_ROLES = "aws-service-role/s3.data-source.lustre.fsx.amazonaws.com/AWSServiceRoleForFSxS3Access_fs-*"


def autoscaling_service_linked_role_arn(stack: Stack) -> str:
    """The stack's account's ``AWSServiceRoleForAutoScaling`` role ARN."""
    return _role_arn(stack, AUTOSCALING_ROLE)


def fsx_s3_role_arn_pattern(stack: Stack) -> str:
    """An ``ArnLike`` pattern matching the FSx for Lustre S3 service-linked roles of the stack's account."""
    return _role_arn(stack, FSX_S3_ROLES)


def _role_arn(stack: Stack, name: str) -> str:
    return stack.format_arn(service="iam", region="", resource="role", resource_name=name)

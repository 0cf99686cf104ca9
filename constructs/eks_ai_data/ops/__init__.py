"""Operations tooling for the ``eks-ai-data`` command line: preflight and verify.

These modules read an AWS account through boto3 and never import aws_cdk, constructs,
cdk8s or jsii, so that the command line starts fast and runs where the CDK is not
installed. ``eks_ai_data.cli`` imports them lazily, inside each subcommand.

- :mod:`eks_ai_data.ops.aws`: sessions, clients with standard retries, error translation.
- :mod:`eks_ai_data.ops.quotas`: which EC2 vCPU quota governs an instance type.
- :mod:`eks_ai_data.ops.preflight`: can the planned node groups launch in a region?
- :mod:`eks_ai_data.ops.stack`: a deployed stack's status, outputs, resources and template.
- :mod:`eks_ai_data.ops.verify`: is a deployed stack's platform ready?
- :mod:`eks_ai_data.ops.table`: check results and their text/JSON rendering.
"""

"""What aws-cdk-lib's built-in CloudFormation validation flags, next to what cfn-lint (the tests' gate) flags.

Synthesizes one stack of deliberately bad L1 resources with the built-in validation on (its default), reads
``validation-report.json``, lints the same template with cfn-lint, and prints each bad input with the findings
of both. Run: ``.venv/bin/python bench/validation_evidence.py`` (about a minute on 2 cores; not a test).

The library's own constructs refuse most of these inputs before CloudFormation sees them (EksAiDataValidationError:
Lustre throughput and capacity, node group sizes and instance types, EFS throughput); the L1 resources here
bypass them on purpose, to compare the two template checkers alone.
"""

from __future__ import annotations

import collections
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SUBNET = "subnet-0123456789abcdef0"


def build(outdir: str) -> dict[str, str]:
    """The bad stack; returns construct id -> what is wrong with it."""
    import aws_cdk as cdk
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_efs as efs
    from aws_cdk import aws_eks as eks
    from aws_cdk import aws_fsx as fsx
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_s3 as s3

    app = cdk.App(outdir=outdir)
    st = cdk.Stack(app, "Bad")
    s3.CfnBucket(st, "VersioningStatus", versioning_configuration={"status": "Maybe"})
    s3.CfnBucket(st, "UpperName", bucket_name="My_Bucket")
    statement = {"Effect": "Allow", "Action": "s3:GetObjectt", "Resource": "*"}
    iam.CfnManagedPolicy(
        st, "TypoAction", policy_document={"Version": "2012-10-17", "Statement": [statement]}
    )
    ec2.CfnSecurityGroup(
        st,
        "BadCidr",
        group_description="nfs",
        security_group_ingress=[
            {"ipProtocol": "tcp", "fromPort": 2049, "toPort": 2049, "cidrIp": "10.0.0.0/33"}
        ],
    )
    efs.CfnFileSystem(st, "ProvisionedNoThroughput", throughput_mode="provisioned")
    lustre = {"deploymentType": "PERSISTENT_2", "perUnitStorageThroughput": 40}
    fsx.CfnFileSystem(
        st,
        "LustreP2Throughput",
        file_system_type="LUSTRE",
        storage_capacity=1200,
        subnet_ids=[SUBNET],
        lustre_configuration=lustre,
    )
    fsx.CfnFileSystem(
        st,
        "LustreBadCapacity",
        file_system_type="LUSTRE",
        storage_capacity=1000,
        subnet_ids=[SUBNET],
        lustre_configuration={**lustre, "perUnitStorageThroughput": 250},
    )
    eks.CfnNodegroup(
        st,
        "BadNodegroup",
        cluster_name="c",
        node_role="arn:aws:iam::123456789012:role/node",
        subnets=[SUBNET],
        instance_types=["p5.49xlarge"],
        scaling_config={"minSize": 3, "maxSize": 1, "desiredSize": 2},
    )
    open_policy = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*"}
    kms.CfnKey(
        st,
        "OpenKey",
        key_policy={"Version": "2012-10-17", "Statement": [open_policy]},
        pending_window_in_days=3,
    )
    ec2.CfnInstance(st, "LiteralAmi", image_id="ami-12345678", instance_type="t3.micro")
    app.synth()
    return {
        "VersioningStatus": "versioning status 'Maybe'",
        "UpperName": "bucket name 'My_Bucket'",
        "TypoAction": "IAM action s3:GetObjectt",
        "BadCidr": "CIDR 10.0.0.0/33",
        "ProvisionedNoThroughput": "EFS provisioned throughput mode without a throughput",
        "LustreP2Throughput": "PERSISTENT_2 Lustre at 40 MB/s/TiB (125, 250, 500 or 1000)",
        "LustreBadCapacity": "Lustre of 1000 GiB (1200 GiB or more)",
        "BadNodegroup": "node group min 3 > max 1, instance type p5.49xlarge",
        "OpenKey": "key policy open to Principal *, deletion window 3 days",
        "LiteralAmi": "a literal AMI id",
    }


def main() -> int:
    os.environ.pop("CDK_VALIDATION", None)  # the built-in validation on, as aws-cdk-lib ships it
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    from cfnlint.api import ManualArgs, lint

    outdir = tempfile.mkdtemp(prefix="validation-evidence-")
    cases = build(outdir)
    template = json.loads((Path(outdir) / "Bad.template.json").read_text())
    # a resource directly under the stack has its construct id as logical id (aws-cdk-lib makeUniqueId)
    assert set(cases) <= set(template["Resources"]), sorted(template["Resources"])
    builtin: dict[str, list[str]] = collections.defaultdict(list)
    report = json.loads((Path(outdir) / "validation-report.json").read_text())
    for plugin in report.get("pluginReports", []):
        for violation in plugin.get("violations", []):
            for construct in violation.get("violatingConstructs", []):
                cid = construct.get("constructPath", "").split("/")[1]
                builtin[cid].append(f"{violation.get('ruleName')} ({violation.get('severity', '?')})")
    linted: dict[str, list[str]] = collections.defaultdict(list)
    for match in lint(json.dumps(template), config=ManualArgs(regions=["us-east-1"])):
        cid = match.path[1] if len(match.path) > 1 else "?"
        linted[cid].append(f"{match.rule.id} ({getattr(match.rule, 'severity', '?')})")
    print(f"{'bad input':<62} {'built-in validation':<34} cfn-lint")
    for cid, what in cases.items():
        print(f"{what:<62} {', '.join(builtin[cid]) or '-':<34} {', '.join(linted[cid]) or '-'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

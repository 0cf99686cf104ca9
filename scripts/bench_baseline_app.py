"""The bare baseline of `make bench`: one stack with one bucket (what any CDK app pays for the jsii bridge)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3

app = cdk.App()
stack = cdk.Stack(app, "Baseline")
s3.Bucket(stack, "Bucket")
app.synth()

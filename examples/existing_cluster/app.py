#!/usr/bin/env python3
"""Example Corp's training platform on an EKS cluster it already runs (``cdk synth`` runs this, see cdk.json)."""

import aws_cdk as cdk
from existing_cluster import build

app = cdk.App()
build(app)
app.synth()

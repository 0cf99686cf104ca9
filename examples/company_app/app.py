#!/usr/bin/env python3
"""Example Corp's CDK app (``cdk synth`` runs it, see cdk.json)."""

import aws_cdk as cdk

from company_app import build

app = cdk.App()
build(app)
app.synth()

#!/usr/bin/env python3
"""The eks-ai-data reference app (`npx cdk synth --all`)."""

from __future__ import annotations

import aws_cdk as cdk

from stacks import build

app = cdk.App()
build(app)
app.synth()

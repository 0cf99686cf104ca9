#!/usr/bin/env python3
"""Write the training jobs to dist/<chart>.k8s.yaml (apply them with kubectl, or commit them for GitOps)."""

import os
from pathlib import Path

import cdk8s

from training_job import build

# Resolved here: cdk8s would resolve a relative directory against its (jsii) process's working directory.
app = cdk8s.App(outdir=str(Path(os.environ.get("CDK8S_OUTDIR", "dist")).resolve()))
build(app)
app.synth()

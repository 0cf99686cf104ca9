#!/usr/bin/env python3
"""The eks-ai-data reference app (`npx cdk synth --all`)."""

from __future__ import annotations

import gc

# One synthesis is one short process, and what it allocates lives until the end: aws-cdk-lib's modules and the
# construct tree's proxies (about 200,000 objects). Python's cyclic garbage collector would walk them about 450
# times, three of them full collections, for about 0.35 s of the process's main thread (measured with
# gc.callbacks) and about 2,300 objects freed; the process's memory is returned when it ends (exit_after_synth).
gc.disable()

from eks_ai_data.concurrent_validation import app as concurrent_validation_app  # noqa: E402

# First, before the stacks' modules are imported and built: aws-cdk-lib's CloudFormation validation engine starts
# in a process of its own and is ready by the time the templates are (eks_ai_data.concurrent_validation).
app = concurrent_validation_app()

from eks_ai_data.app_exit import exit_after_synth  # noqa: E402
from stacks import build  # noqa: E402

build(app)
app.synth()
# The cloud assembly is written: end the process without the interpreter's teardown of every aws_cdk module and
# construct proxy (about 0.8 s), after the atexit handlers have stopped the jsii kernel and the validation engine.
exit_after_synth()

#!/usr/bin/env python3
"""Example Corp's ML platform as a data stack and cluster stacks (``cdk synth`` runs this, see cdk.json).

``-c clusters=blue,green`` adds a second cluster stack on the same data (blue/green replacement, see README.md).
"""

import aws_cdk as cdk
from split_stacks import build

app = cdk.App()
build(app)
app.synth()

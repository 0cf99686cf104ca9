"""Reference stacks composed from the eks_ai_data library (not part of the installed package)."""

from __future__ import annotations

import aws_cdk as cdk

from .training import TrainingPlatformStack


def build(app: cdk.App) -> list[cdk.Stack]:
    """Add every reference stack to ``app`` (used by app.py and by the tests)."""
    return [TrainingPlatformStack(app, "EksAiDataTraining")]

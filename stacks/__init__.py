"""Reference stacks composed from the eks_ai_data library (not part of the installed package)."""

from __future__ import annotations

import aws_cdk as cdk

from .config import PlatformConfig
from .inference import InferencePlatformStack
from .training import TrainingPlatformStack

TRAINING_STACK = "EksAiDataTraining"
INFERENCE_STACK = "EksAiDataInference"


def build(app: cdk.App, config: PlatformConfig | None = None) -> list[cdk.Stack]:
    """Add every reference stack to ``app`` (used by app.py and by the tests)."""
    config = config if config is not None else PlatformConfig.from_context(app)
    return [
        TrainingPlatformStack(app, TRAINING_STACK, config=config),
        InferencePlatformStack(app, INFERENCE_STACK, config=config),
    ]

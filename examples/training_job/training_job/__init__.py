"""PyTorch training on the eks-ai-data platform, as cdk8s charts."""

from __future__ import annotations

import cdk8s

from .chart import GPU_COUNTS, PYTORCH_IMAGE, TRAIN_SCRIPT, TrainingJobChart


def build(app: cdk8s.App) -> list[TrainingJobChart]:
    """The two jobs this example ships: fine-tuning on one p5 node, pre-training on four over EFA."""
    return [
        TrainingJobChart(app, "gpt-single-node", steps=2_000),
        TrainingJobChart(app, "gpt-multi-node", nodes=4, efa_interfaces=32, steps=50_000),
    ]


__all__ = ["GPU_COUNTS", "PYTORCH_IMAGE", "TRAIN_SCRIPT", "TrainingJobChart", "build"]

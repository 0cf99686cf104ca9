"""Reference stacks composed from the eks_ai_data library (not part of the installed package).

Each platform is a data stack (``EksAiDataTrainingData``, ``EksAiDataInferenceData``: keys, VPC, buckets, file
systems, backups; termination protection on) and one cluster stack per name in the ``clusters`` setting
(``EksAiDataTrainingBlue``, ...), each consuming the data stack. Two names during a blue/green replacement.
"""

from __future__ import annotations

import aws_cdk as cdk

from .config import PlatformConfig
from .inference import InferenceClusterStack, InferenceDataStack
from .training import TrainingClusterStack, TrainingDataStack

TRAINING = "EksAiDataTraining"
INFERENCE = "EksAiDataInference"
TRAINING_DATA_STACK = f"{TRAINING}Data"
INFERENCE_DATA_STACK = f"{INFERENCE}Data"


def cluster_stack_name(platform: str, cluster: str) -> str:
    """``EksAiDataTraining`` + ``blue`` -> ``EksAiDataTrainingBlue``."""
    return f"{platform}{cluster[:1].upper()}{cluster[1:]}"


#: The cluster stacks of the default configuration (one cluster, ``blue``).
TRAINING_STACK = cluster_stack_name(TRAINING, "blue")
INFERENCE_STACK = cluster_stack_name(INFERENCE, "blue")


def build(app: cdk.App, config: PlatformConfig | None = None) -> list[cdk.Stack]:
    """Add every reference stack to ``app`` (used by app.py and by the tests): data stacks, then cluster stacks."""
    config = config if config is not None else PlatformConfig.from_context(app)
    clusters = config.cluster_versions()
    training = TrainingDataStack(app, TRAINING_DATA_STACK, config=config)
    inference = InferenceDataStack(app, INFERENCE_DATA_STACK, config=config)
    stacks: list[cdk.Stack] = [training, inference]
    for name, version in clusters:
        stacks.append(
            TrainingClusterStack(
                app,
                cluster_stack_name(TRAINING, name),
                config=config,
                data=training,
                kubernetes_version=version,
            )
        )
        stacks.append(
            InferenceClusterStack(
                app,
                cluster_stack_name(INFERENCE, name),
                config=config,
                data=inference,
                kubernetes_version=version,
            )
        )
    return stacks

"""aws-cdk-lib feature flags that the library pins on its own constructs.

A feature flag set in the consuming app's ``cdk.json`` (``cdk init`` writes 89 of them) can change the logical id or
the properties of resources a construct creates. For stateful and networking resources that means replacement on
the next deploy, so a construct that creates such a resource pins each flag that would change it, on its own
subtree (``node.set_context`` before the children exist), whatever the app sets. The tests synthesize the
reference platforms and the examples under no flags and under the full ``cdk init`` set and compare.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from constructs import Construct

#: EFS mount targets' logical ids from their AZ instead of the subnet order (aws-cdk-lib ``aws-efs``).
MOUNT_TARGET_ORDER_INSENSITIVE_IDS = "@aws-cdk/aws-efs:mountTargetOrderInsensitiveLogicalId"
#: The native ``AWS::IAM::OIDCProvider`` instead of a custom resource (aws-cdk-lib ``aws-eks-v2``).
NATIVE_OIDC_PROVIDER = "@aws-cdk/aws-eks:useNativeOidcProvider"
#: A ``logs.LogGroup`` (unencrypted, no retention) created with each ``lambda.Function`` that names none
#: (aws-cdk-lib ``aws-lambda``). Pinned off where the library gives functions their own encrypted groups
#: (:mod:`eks_ai_data.function_logs`): on, it would add a second, unused group per function.
LAMBDA_MANAGED_LOG_GROUP = "@aws-cdk/aws-lambda:useCdkManagedLogGroup"


def pin_feature_flags(scope: Construct, flags: Mapping[str, Any]) -> None:
    """Set ``flags`` on ``scope``'s subtree; must run before the children they affect are created."""
    for name, value in flags.items():
        scope.node.set_context(name, value)

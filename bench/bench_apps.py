"""The Python apps `make bench` synthesizes besides the reference app (``app.py``).

- ``floor``: one stack with one S3 bucket: what any Python CDK app pays for the jsii bridge, the CLI and
  aws-cdk-lib, whatever it builds (the jsii-only floor).
- ``scale:G:T``: one platform stack (keys, cluster, shared EFS, in-cluster storage) with ``G`` GPU managed node
  groups and ``T`` team namespaces, each team with an EFS access point, a WorkloadIdentity (IAM role for its
  service account, allowed to read its own prefix of a shared bucket) and a static claim bound to its access
  point. The rows of ``G`` and ``T`` tell what one more node group or one more team costs, and whether that cost
  stays the same as the platform grows.

Run as a CDK app: ``npx cdk synth --app "python bench/bench_apps.py scale:4:100"``; ``NAME+concurrent`` builds the
app on :func:`eks_ai_data.concurrent_validation.app` (aws-cdk-lib's validation in a process of its own), plain
``NAME`` on ``cdk.App`` (the validation in the jsii kernel). A 500-team stack has more
than CloudFormation's 500 resources per stack; the scaling app raises aws-cdk-lib's limit check
(``@aws-cdk/core:stackResourceLimit``) because it measures synthesis, and is never deployed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: what aws-cdk-lib checks a stack's resource count against (core/lib/stack.js, STACK_RESOURCE_LIMIT_CONTEXT)
STACK_RESOURCE_LIMIT_CONTEXT = "@aws-cdk/core:stackResourceLimit"
GPU_INSTANCE_TYPE = "g6e.12xlarge"


def build_floor(app: Any) -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_s3 as s3

    stack = cdk.Stack(app, "Floor")
    s3.Bucket(stack, "Bucket")


def build_reference(app: Any) -> None:
    from stacks import build

    build(app)


def build_scale(app: Any, gpu_groups: int, teams: int) -> None:
    from eks_ai_data.bucket import DataBucket
    from eks_ai_data.cluster import AiCluster
    from eks_ai_data.efs import SharedEfs
    from eks_ai_data.identity import WorkloadIdentity
    from eks_ai_data.k8s import EfsClassSpec, EfsVolumeSpec, ServiceAccountSpec
    from eks_ai_data.keys import DataKeys
    from eks_ai_data.network import ZonalStack
    from eks_ai_data.nodegroups import GpuNodeGroup
    from eks_ai_data.patterns.cluster_storage import ClusterStorage

    stack = ZonalStack(app, "Scale")
    keys = DataKeys(stack, "Keys")
    platform = AiCluster(stack, "Platform", keys=keys)
    shared = SharedEfs(
        stack,
        "SharedEfs",
        vpc=platform.vpc,
        node_security_groups=[platform.node_security_group],
        kms_key=keys.data_key,
    )
    bucket = DataBucket(stack, "TeamData", encryption_key=keys.data_key)
    namespaces = [f"team-{i:03d}" for i in range(teams)]
    storage = ClusterStorage(
        stack,
        "InCluster",
        cluster=platform,
        shared_efs=[shared],
        namespaces=namespaces,
        efs_classes=[EfsClassSpec(file_system_id=shared.file_system_id, name="efs-ap")],
    )
    for i in range(gpu_groups):
        GpuNodeGroup(stack, f"Gpu{i:02d}", cluster=platform, instance_types=[GPU_INSTANCE_TYPE])
    volumes, accounts = [], []
    for namespace in namespaces:
        access_point = shared.add_access_point(
            namespace, path=f"/teams/{namespace}", uid=2000, gid=2000, permissions="770"
        )
        identity = WorkloadIdentity(
            stack,
            f"Identity-{namespace}",
            cluster=platform.cluster,
            namespace=namespace,
            service_account="worker",
        )
        identity.read_prefix(bucket.bucket, namespace)
        accounts.append(
            ServiceAccountSpec(name="worker", namespace=namespace, role_arn=identity.irsa_role_arn)
        )
        volumes.append(
            EfsVolumeSpec(
                name=f"{namespace}-shared",
                file_system_id=shared.file_system_id,
                access_point_id=access_point.access_point_id,
                namespace=namespace,
                claim_name="shared",
            )
        )
    if teams:
        storage.add_static_volumes("Teams", efs_volumes=volumes)
        storage.add_service_accounts("Teams", accounts)


def builder(name: str) -> Callable[[Any], None]:
    """The build function of the app ``name`` (``floor``, ``reference`` or ``scale:G:T``), its modules imported."""
    if name == "floor":
        import aws_cdk.aws_s3  # noqa: F401

        return build_floor
    if name == "reference":
        import stacks  # noqa: F401

        return build_reference
    if name.startswith("scale:"):
        _, groups, teams = name.split(":")
        import eks_ai_data.patterns.cluster_storage  # noqa: F401

        return lambda app: build_scale(app, int(groups), int(teams))
    raise SystemExit(f"unknown bench app {name!r}: floor, reference or scale:GPU_GROUPS:TEAMS")


def new_app(spec: str, **props: Any) -> tuple[Any, str]:
    """The ``cdk.App`` (``props`` as for ``cdk.App``) for the bench app ``spec`` (``NAME`` or ``NAME+concurrent``),
    and ``NAME``. ``+concurrent``: aws-cdk-lib's validation in a process of its own, started first (as app.py does);
    a scaling app gets the raised resource limit."""
    import aws_cdk as cdk

    name, _, mode = spec.partition("+")
    if name.startswith("scale:"):
        props["context"] = {**props.get("context", {}), STACK_RESOURCE_LIMIT_CONTEXT: 0}
    if mode == "concurrent":
        from eks_ai_data.concurrent_validation import app as concurrent_validation_app

        return concurrent_validation_app(**props), name
    if mode:
        raise SystemExit(f"unknown mode {mode!r}: NAME or NAME+concurrent")
    return cdk.App(**props), name


def main(argv: list[str]) -> int:
    app, name = new_app(argv[1] if len(argv) > 1 else "floor")
    build = builder(name)
    build(app)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""`make manifests`: write the reference app's in-cluster charts whose values are concrete to dist/*.k8s.yaml.

Charts that hold CDK tokens (key ARNs, file-system ids, role ARNs) resolve only when the cluster applies them
through CloudFormation; they are listed and skipped. GitOps users apply the written files with their tools.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository root: `stacks` lives there

import aws_cdk as cdk

from eks_ai_data.k8s import concrete, write_manifests
from eks_ai_data.patterns.cluster_storage import ClusterStorage
from stacks import build


def main(argv: list[str]) -> int:
    outdir = Path(argv[1] if len(argv) > 1 else "dist")
    app = cdk.App(outdir=str(Path(".bench") / "manifests-assembly"))
    build(app)
    written, skipped = [], []
    for node in app.node.find_all():
        if not isinstance(node, ClusterStorage):
            continue
        stack = cdk.Stack.of(node).stack_name
        for chart in node.charts.charts:
            if concrete(chart):
                written += write_manifests(chart, outdir=str(outdir / stack))
            else:
                skipped.append(f"{stack}/{chart.node.id}")
    for path in written:
        print(f"wrote {path}")
    for name in skipped:
        print(f"skipped {name}: holds CDK tokens, applied by the cluster at deploy time")
    return 0 if written else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))

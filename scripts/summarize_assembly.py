"""Print one line per stack of a cloud assembly: name, resource count, template size."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def summarize(outdir: Path) -> list[tuple[str, int, int]]:
    manifest = json.loads((outdir / "manifest.json").read_text())
    rows = []
    for name, artifact in sorted(manifest.get("artifacts", {}).items()):
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        template = outdir / artifact["properties"]["templateFile"]
        body = template.read_text()
        rows.append(
            (artifact.get("displayName", name), len(json.loads(body).get("Resources", {})), len(body))
        )
    return rows


def main(argv: list[str]) -> int:
    outdir = Path(argv[1] if len(argv) > 1 else "cdk.out")
    rows = summarize(outdir)
    if not rows:
        print(f"no stacks in {outdir}", file=sys.stderr)
        return 1
    width = max(len(r[0]) for r in rows)
    print(f"{'stack':<{width}}  {'resources':>9}  {'template bytes':>14}")
    for name, count, size in rows:
        print(f"{name:<{width}}  {count:>9}  {size:>14}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Print (or --write into README.md) the README's cost table of the reference platforms.

    make synth && .venv/bin/python scripts/cost_readme.py cdk.out --write README.md

The block between the README's ``<!-- cost:begin -->`` and ``<!-- cost:end -->`` markers is the
output of the command it shows, run on the reference app's assembly with the price table's own
date as the EKS support date, so that the figures change only when the app or the table does
(tests/ops/test_ops_cost_readme.py checks that the README holds what this prints).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from eks_ai_data.ops import cost
from eks_ai_data.ops.prices import PriceTable

BEGIN, END = "<!-- cost:begin -->", "<!-- cost:end -->"


def block(assembly: str | Path) -> str:
    table = PriceTable.load()
    command = f"eks-ai-data cost cdk.out --date {table.as_of}"
    report = cost.estimate(assembly, table=table, today=dt.date.fromisoformat(table.as_of))
    report.assembly = "cdk.out"
    return f"{BEGIN}\n```console\n$ {command}\n{cost.render_table(report)}\n```\n{END}"


def replace(readme: str, new_block: str) -> str:
    head, begin, rest = readme.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise SystemExit(f"README has no {BEGIN} ... {END} block")
    return head + new_block + tail


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assembly", help="cdk.out of the reference app (make synth)")
    parser.add_argument("--write", type=Path, metavar="README", help="replace the block in this file")
    args = parser.parse_args()
    text = block(args.assembly)
    if args.write:
        args.write.write_text(replace(args.write.read_text(encoding="utf-8"), text), encoding="utf-8")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

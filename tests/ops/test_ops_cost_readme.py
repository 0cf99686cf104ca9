"""The README's cost table is what ``eks-ai-data cost`` prints for the current reference app."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _generator():
    spec = importlib.util.spec_from_file_location("cost_readme", ROOT / "scripts" / "cost_readme.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_cost_block_matches_the_command(reference):
    generator = _generator()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    expected = generator.block(reference.outdir)
    start, end = readme.index(generator.BEGIN), readme.index(generator.END) + len(generator.END)
    assert readme[start:end] == expected, "README cost table is stale: run `make cost-readme`"
    for stack in (
        "EksAiDataTrainingData",
        "EksAiDataTrainingBlue",
        "EksAiDataInferenceData",
        "EksAiDataInferenceBlue",
    ):
        assert f"{stack} (us-east-1)" in expected
    assert "0 unpriced" in expected


def test_replace_swaps_only_the_block():
    generator = _generator()
    text = f"intro\n{generator.BEGIN}\nold\n{generator.END}\noutro\n"
    assert generator.replace(text, f"{generator.BEGIN}\nnew\n{generator.END}") == (
        f"intro\n{generator.BEGIN}\nnew\n{generator.END}\noutro\n"
    )

"""The README stays true: its two commands lead, its example app synthesizes, its sample error is real."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aws_cdk as cdk
import pytest

from eks_ai_data import AiCluster, EksAiDataValidationError, GpuNodeGroup

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_the_first_lines_are_the_two_commands():
    block = README.split("```sh\n", 1)[1].split("```", 1)[0]
    assert [line.split("#")[0].strip() for line in block.strip().splitlines()] == ["make synth", "make test"]


def test_the_minimal_example_synthesizes(tmp_path):
    (code,) = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    assert code.count("cdk.App()") == 1
    code = code.replace("cdk.App()", f"cdk.App(outdir={str(tmp_path)!r})")
    exec(compile(code, "README.md", "exec"), {"__name__": "readme_example"})  # noqa: S102 - our own README
    template = (tmp_path / "MlPlatform.template.json").read_text()
    assert "AWS::FSx::DataRepositoryAssociation" in template
    assert "acme-datasets" in template
    assert "missing" not in json.loads((tmp_path / "manifest.json").read_text())  # nothing looked up


def test_the_sample_error_message_is_what_the_library_says():
    (sample,) = re.findall(r"^MlPlatform/Dataset/GpuNodes: invalid .*$", README, flags=re.M)
    stack = cdk.Stack(cdk.App(), "MlPlatform")
    platform = AiCluster(stack, "Platform")
    dataset = cdk.Resource(stack, "Dataset")
    with pytest.raises(EksAiDataValidationError) as info:
        GpuNodeGroup(dataset, "GpuNodes", cluster=platform, instance_types=["m5.large"])
    assert str(info.value) == sample


def test_every_security_model_item_cites_tests_that_exist():
    section = README.split("## Security model\n", 1)[1].split("\n## ", 1)[0]
    items = re.split(r"\n(?=- )", section.split("\n- ", 1)[1])
    assert len(items) >= 15
    root = Path(__file__).resolve().parents[1]
    for item in items:
        cited = re.findall(r"`((?:tests|examples)/[\w/]+\.py)::(\w+)`", item)
        assert cited, f"no test cited for: {item[:80]}"
        for path, name in cited:
            source = (root / path).read_text()
            assert re.search(rf"^def {name}\(", source, flags=re.M), f"{path}::{name} does not exist"

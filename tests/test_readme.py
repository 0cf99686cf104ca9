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


OWN_APP = README.split("## Using the constructs in your own app", 1)[1].split("\n## ", 1)[0]
CDK_INIT = json.loads((Path(__file__).with_name("fixtures") / "cdk_init" / "cdk.json").read_text())


def _sample() -> str:
    (code,) = [c for c in re.findall(r"```python\n(.*?)```", OWN_APP, flags=re.S) if "cdk.App()" in c]
    assert code.count("cdk.App()") == 1
    return code


def _run(code: str, outdir: Path) -> list[str]:
    """Run the sample as `cdk synth` would (cdk init's context); the ids of the warnings it leaves."""
    code = code.replace("cdk.App()", f"cdk.App(outdir={str(outdir)!r}, context=CONTEXT)")
    exec(compile(code, "README.md", "exec"), {"__name__": "readme_example", "CONTEXT": CDK_INIT["context"]})  # noqa: S102 - our own README
    metadata = json.loads((outdir / "MlPlatform.metadata.json").read_text())
    found = []
    for entries in metadata.values():
        for entry in entries:
            if entry["type"] == "aws:cdk:warning":
                text = str(entry["data"])
                ack = re.search(r"\[ack: ([^\]]+)\]", text)
                found.append(
                    ack.group(1)
                    if ack
                    else "@aws-cdk/aws-ec2:noSubnetRouteTableId" * ("routeTableId" in text)
                )
    return sorted(found)


def test_the_minimal_example_synthesizes_without_a_warning(tmp_path):
    assert _run(_sample(), tmp_path) == []
    template = (tmp_path / "MlPlatform.template.json").read_text()
    assert "AWS::FSx::DataRepositoryAssociation" in template
    assert "acme-datasets" in template
    assert "missing" not in json.loads((tmp_path / "manifest.json").read_text())  # nothing looked up
    keys = [r for r in json.loads(template)["Resources"].values() if r["Type"] == "AWS::KMS::Key"]
    assert len(keys) == 1, "only the cluster secrets key is created: no backup plan, no backup key"


def test_the_warnings_table_is_what_the_sample_prints_without_its_fixes(tmp_path):
    code = _sample()
    bare = re.sub(r"\nAnnotations\.of\(.*?\n\)\n", "\n", code, flags=re.S)
    bare = re.sub(r"    private_subnet_route_table_ids=.*\n", "", bare)
    assert bare.count("acknowledge_warning") == 0 and "route_table" not in bare
    table = re.findall(r"^\| `([^`]+)`", OWN_APP, flags=re.M)
    printed = _run(bare, tmp_path)
    assert sorted(set(printed)) == sorted(table)
    assert len(printed) == 5  # per subnet (two) for the first two


def test_the_own_app_steps_are_those_that_were_run():
    steps = OWN_APP.split("```sh\n", 1)[1].split("```", 1)[0]
    assert "init app --language python" in steps and "--generate-only" in steps
    assert "source .venv/bin/activate" in steps
    assert "pip install --upgrade 'pip>=24'" in steps
    assert "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION" in steps and "CDK_DISABLE_CLI_TELEMETRY" in steps
    package = json.loads((Path(__file__).resolve().parents[1] / "package.json").read_text())
    assert f"aws-cdk@{package['devDependencies']['aws-cdk']}" in steps  # the pinned CLI
    assert '"app": "python3 app.py"' in OWN_APP and CDK_INIT["app"] == "python3 app.py"
    assert f"the {len(CDK_INIT['context'])} feature" in " ".join(OWN_APP.split())


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

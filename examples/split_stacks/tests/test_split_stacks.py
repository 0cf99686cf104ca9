"""The split-stacks example: a data stack and cluster stacks, gates on each, the blue/green replacement, and the
same identity under both flag sets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from split_stacks import DATA_STACK, cluster_stack_name
from syrupy.extensions.json import JSONSnapshotExtension

from eks_ai_data.guard import compare
from tests._gates import cfn_lint_errors, normalize_template, unacknowledged_warnings
from tests._identity import identity_differences, log_group_problems
from tests.k8s.k8s_support import validate
from tests.patterns.test_reference_platforms import manifests, objects

pytestmark = pytest.mark.heavy

BLUE, GREEN = cluster_stack_name("blue"), cluster_stack_name("green")


def test_the_app_has_a_data_stack_and_one_cluster_stack(split_blue):
    assert sorted(split_blue.templates) == sorted([DATA_STACK, BLUE])


@pytest.mark.parametrize("stack", [DATA_STACK, BLUE])
def test_template_matches_snapshot(split_blue, stack, snapshot):
    assert normalize_template(split_blue.template(stack)) == snapshot(extension_class=JSONSnapshotExtension)


@pytest.mark.parametrize("phase", ["blue", "blue,green", "green"])
def test_cfn_lint_and_cdk_nag_in_every_phase(split_blue, split_blue_green, split_green, phase):
    synthesized = {"blue": split_blue, "blue,green": split_blue_green, "green": split_green}[phase]
    assert synthesized.nag_findings == []
    for template in synthesized.templates.values():
        assert cfn_lint_errors(template) == []


def test_applied_objects_are_valid_kubernetes(split_blue_green):
    for stack in (BLUE, GREEN):
        objs = [obj for found in manifests(split_blue_green, stack).values() for obj in found]
        for obj in objs:
            validate(obj)
        assert {"PersistentVolume", "PersistentVolumeClaim"} <= {o["kind"] for o in objs}


def test_no_unacknowledged_warning(split_blue_green):
    for stack in split_blue_green.templates:
        assert unacknowledged_warnings(split_blue_green.outdir, stack) == [], stack


def test_cdk_json_is_what_cdk_init_writes():
    from tests.conftest import CDK_INIT_CDK_JSON

    app_dir = Path(__file__).resolve().parents[1]
    assert json.loads((app_dir / "cdk.json").read_text()) == json.loads(CDK_INIT_CDK_JSON.read_text())


def test_same_identity_and_encrypted_logs_under_both_flag_sets(split_blue, split_no_flags):
    assert identity_differences(split_no_flags, split_blue) == []
    for synthesized in (split_blue, split_no_flags):
        assert log_group_problems(synthesized.templates) == []


# -- blue/green ----------------------------------------------------------------------------------------------


def test_the_data_stack_is_identical_in_every_phase(split_blue, split_blue_green, split_green):
    assert (
        split_blue.template(DATA_STACK)
        == split_blue_green.template(DATA_STACK)
        == split_green.template(DATA_STACK)
    )


def test_guard_across_the_replacement(split_blue, split_blue_green, split_green):
    assert compare(split_blue.outdir, split_blue_green.outdir).findings == []
    removed = compare(split_blue_green.outdir, split_green.outdir).findings
    assert {(f.stack, f.kind, f.resource_type) for f in removed} == {
        (BLUE, "orphaned", "AWS::Logs::LogGroup")
    }


def test_green_is_the_same_stack_whether_or_not_blue_is_there(split_blue_green, split_green):
    assert split_blue_green.template(GREEN) == split_green.template(GREEN)


def test_green_uses_the_same_claims_on_the_same_file_systems(split_blue_green):
    for kind in ("PersistentVolume", "PersistentVolumeClaim"):
        assert (
            set(objects(split_blue_green, BLUE, kind)) == set(objects(split_blue_green, GREEN, kind)) != set()
        )
    for name, pv in objects(split_blue_green, BLUE, "PersistentVolume").items():
        assert objects(split_blue_green, GREEN, "PersistentVolume")[name]["spec"]["csi"] == pv["spec"]["csi"]
    names = {
        split_blue_green.template(s)["Resources"][k]["Properties"]["Name"]
        for s in (BLUE, GREEN)
        for k, v in split_blue_green.template(s)["Resources"].items()
        if v["Type"] == "AWS::EKS::Cluster"
    }
    assert names == {f"{BLUE}-Platform", f"{GREEN}-Platform"}

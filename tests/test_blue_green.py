"""Blue/green cluster replacement on the reference app: a second cluster stack attaches to the same data stack,
the data stack does not change across the swap, and the replacement guard says so.

Three assemblies of the same app: before (``clusters=blue``, the ``reference`` fixture), during
(``clusters=blue,green``) and after the cut-over (``clusters=green``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from eks_ai_data.guard import compare
from stacks import INFERENCE, INFERENCE_DATA_STACK, TRAINING, TRAINING_DATA_STACK, cluster_stack_name
from tests._gates import cfn_lint_errors, normalize_template
from tests.k8s.k8s_support import validate
from tests.patterns.test_reference_platforms import manifests, objects

pytestmark = pytest.mark.heavy

DATA_STACKS = [TRAINING_DATA_STACK, INFERENCE_DATA_STACK]
PLATFORMS = [(TRAINING, TRAINING_DATA_STACK), (INFERENCE, INFERENCE_DATA_STACK)]
BLUE = [cluster_stack_name(p, "blue") for p, _ in PLATFORMS]
GREEN = [cluster_stack_name(p, "green") for p, _ in PLATFORMS]


def _imports(template: dict[str, Any]) -> set[str]:
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if set(node) == {"Fn::ImportValue"}:
                found.add(node["Fn::ImportValue"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(template)
    return found


def _one(template: dict[str, Any], type_: str) -> tuple[str, dict[str, Any]]:
    (item,) = [(k, v) for k, v in template["Resources"].items() if v["Type"] == type_]
    return item


# -- the data stack across the swap ------------------------------------------------------------------------


def test_the_data_stacks_are_identical_before_during_and_after_the_swap(reference, blue_green, green_only):
    for stack in DATA_STACKS:
        before, during, after = (s.template(stack) for s in (reference, blue_green, green_only))
        assert before == during == after, stack


def test_guard_adding_the_green_cluster_finds_nothing(reference, blue_green):
    report = compare(reference.outdir, blue_green.outdir)
    assert report.findings == []
    assert sorted(set(blue_green.templates) - set(reference.templates)) == sorted(GREEN)


def test_guard_removing_the_blue_cluster_touches_no_data_stack(blue_green, green_only):
    """What goes with the blue stacks is their clusters' log groups, retained (orphaned), nothing of the data."""
    report = compare(blue_green.outdir, green_only.outdir)
    assert report.findings, "the blue stacks' retained log groups are reported"
    assert {(f.stack, f.kind, f.resource_type) for f in report.findings} == {
        (stack, "orphaned", "AWS::Logs::LogGroup") for stack in BLUE
    }
    assert compare(blue_green.outdir, green_only.outdir, allow_orphaned=True).ok


def test_the_green_stacks_do_not_change_when_blue_goes(blue_green, green_only):
    """Removing one cluster stack renames nothing in another (no rule ids from an order of admission)."""
    for stack in GREEN:
        assert blue_green.template(stack) == green_only.template(stack), stack


# -- two clusters, one data stack ---------------------------------------------------------------------------


@pytest.mark.parametrize(("platform", "data"), PLATFORMS)
def test_blue_and_green_are_two_clusters_consuming_the_same_exports(blue_green, platform, data):
    blue, green = (blue_green.template(cluster_stack_name(platform, c)) for c in ("blue", "green"))
    names = [_one(t, "AWS::EKS::Cluster")[1]["Properties"]["Name"] for t in (blue, green)]
    assert names == [f"{cluster_stack_name(platform, c)}-Platform" for c in ("blue", "green")]
    groups = [
        {
            r["Properties"].get("LogGroupName")
            for r in t["Resources"].values()
            if r["Type"] == "AWS::Logs::LogGroup" and isinstance(r["Properties"].get("LogGroupName"), str)
        }
        for t in (blue, green)
    ]
    for name, found in zip(names, groups, strict=True):
        assert f"/aws/eks/{name}/cluster" in found
    exports = {name for name, (stack, _) in blue_green.exports().items() if stack == data}
    assert _imports(blue) == _imports(green) <= exports
    assert _imports(blue), "the cluster stacks read the data stack through exports"
    # nothing of the data stack refers to a cluster stack
    assert not _imports(blue_green.template(data))


@pytest.mark.parametrize(("platform", "data"), PLATFORMS)
def test_each_cluster_admits_its_own_nodes_to_the_file_systems_in_its_own_stack(blue_green, platform, data):
    data_groups = {
        k for k, v in blue_green.template(data)["Resources"].items() if v["Type"] == "AWS::EC2::SecurityGroup"
    }
    rule_ids = []
    for color in ("blue", "green"):
        template = blue_green.template(cluster_stack_name(platform, color))
        cluster_id, _ = _one(template, "AWS::EKS::Cluster")
        own_group = {"Fn::GetAtt": [cluster_id, "ClusterSecurityGroupId"]}
        admitted = set()
        ids = []
        for lid, rule in template["Resources"].items():
            if rule["Type"] != "AWS::EC2::SecurityGroupIngress":
                continue
            props = blue_green.unimport(rule["Properties"])
            target = props["GroupId"].get("Fn::GetAtt", [None])[0]
            if target in data_groups:  # the file system accepts this cluster's nodes
                assert props["SourceSecurityGroupId"] == own_group, lid
                admitted.add((target, props["FromPort"]))
                ids.append(lid)
        assert {group for group, _ in admitted} == {g for g in data_groups if "Flow" not in g}, color
        rule_ids.append(sorted(ids))
    assert rule_ids[0] == rule_ids[1], "the same code gives the same rule ids in both cluster stacks"


@pytest.mark.parametrize("platform", [TRAINING, INFERENCE])
def test_green_mounts_the_same_file_systems_through_the_same_claims(blue_green, platform):
    blue, green = (cluster_stack_name(platform, c) for c in ("blue", "green"))
    for kind in ("PersistentVolume", "PersistentVolumeClaim", "StorageClass", "ServiceAccount"):
        before, after = objects(blue_green, blue, kind), objects(blue_green, green, kind)
        assert set(before) == set(after), kind
    for name, pv in objects(blue_green, blue, "PersistentVolume").items():
        other = objects(blue_green, green, "PersistentVolume")[name]
        assert pv["spec"]["csi"]["volumeHandle"] == other["spec"]["csi"]["volumeHandle"], name
        assert (
            "<Ref:" in pv["spec"]["csi"]["volumeHandle"]
        )  # the data stack's file system, through its export


# -- gates on the pair -------------------------------------------------------------------------------------


def test_cdk_nag_during_the_swap(blue_green):
    assert blue_green.nag_findings == []


@pytest.mark.parametrize("stack", GREEN)
def test_cfn_lint_on_the_green_stacks(blue_green, stack):
    assert cfn_lint_errors(blue_green.template(stack)) == []


@pytest.mark.parametrize("stack", GREEN)
def test_green_objects_are_valid_kubernetes(blue_green, stack):
    checked = 0
    for objs in manifests(blue_green, stack).values():
        for obj in objs:
            validate(obj)
            checked += 1
    assert checked >= 5


@pytest.mark.parametrize("stack", GREEN)
def test_green_template_matches_snapshot(blue_green, stack, snapshot_json):
    assert normalize_template(blue_green.template(stack)) == snapshot_json


def test_cluster_names_in_the_setting_are_checked():
    from eks_ai_data.errors import EksAiDataValidationError
    from stacks.config import PlatformConfig

    assert PlatformConfig(clusters=("blue", "green:1.35")).cluster_versions() == [
        ("blue", "1.36"),
        ("green", "1.35"),
    ]
    with pytest.raises(EksAiDataValidationError, match=r"clusters='Blue': names must be DNS-1123 labels"):
        PlatformConfig(clusters=("Blue",)).cluster_versions()
    with pytest.raises(EksAiDataValidationError, match=r"names 'blue' twice"):
        PlatformConfig(clusters=("blue", "blue:1.35")).cluster_versions()
    with pytest.raises(EksAiDataValidationError, match=r"clusters=\[\]: must name at least one cluster"):
        PlatformConfig(clusters=()).cluster_versions()
    assert json.loads(json.dumps(PlatformConfig().clusters)) == ["blue"]

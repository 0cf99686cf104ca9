"""The guard on the reference app's assembly: itself passes; a mutated copy fails where it should."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from eks_ai_data.guard import compare, read_assembly


def _stack_file(assembly: Path, stack: str) -> Path:
    manifest = json.loads((assembly / "manifest.json").read_text())
    for artifact_id, artifact in manifest["artifacts"].items():
        props = artifact.get("properties") or {}
        if (
            artifact.get("type") == "aws:cloudformation:stack"
            and props.get("stackName", artifact_id) == stack
        ):
            return assembly / props["templateFile"]
    raise KeyError(stack)


def test_reference_assembly_against_itself_passes(reference):
    report = compare(reference.outdir, reference.outdir)
    assert report.findings == []
    assert report.stateful_resources > 20  # every stack's buckets, keys, file systems, vaults, access points


def test_reference_assembly_mutations_fail(reference, tmp_path):
    mutated = tmp_path / "mutated"
    shutil.copytree(reference.outdir, mutated)
    path = _stack_file(mutated, "EksAiDataTrainingData")
    template = json.loads(path.read_text())
    resources = template["Resources"]
    lustre = "DatasetLustreFileSystemEE8585FD"  # pinned in tests/pinned_stateful_ids.json
    resources[lustre]["Properties"]["LustreConfiguration"]["DeploymentType"] = "PERSISTENT_1"
    # a renamed construct: the checkpoints bucket under a new logical id
    resources["CheckpointsBucketRenamed"] = resources.pop("CheckpointsBucketC95E0A6D")
    path.write_text(json.dumps(template))
    assert (
        read_assembly(mutated)["EksAiDataTrainingData"]
        != read_assembly(reference.outdir)["EksAiDataTrainingData"]
    )

    report = compare(reference.outdir, mutated)
    assert {(f.kind, f.logical_id, f.property) for f in report.failures} == {
        ("replaced", lustre, "/properties/LustreConfiguration/DeploymentType"),
        ("renamed", "CheckpointsBucketC95E0A6D", None),
        # the data repository associations name the replaced file system: replaced with it
        ("replaced", "DatasetLustreAssociationdatasetsD7D3625B", "/properties/FileSystemId"),
        ("replaced", "DatasetLustreAssociationcheckpointsA1C11278", "/properties/FileSystemId"),
    }
    renamed = next(f for f in report.failures if f.kind == "renamed")
    assert renamed.to_logical_id == "CheckpointsBucketRenamed"

"""`make manifests`: charts with concrete values are written for GitOps users; token-bearing ones are skipped."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import yaml

from tests.k8s.k8s_support import validate

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "write_manifests.py"


def test_concrete_charts_are_written_and_valid(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("write_manifests", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["write_manifests.py", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.k8s.yaml"))
    assert "EksAiDataTrainingBlue/gpu-software.k8s.yaml" in written
    assert "EksAiDataTrainingBlue/local-nvme.k8s.yaml" in written
    assert "skipped EksAiDataTrainingBlue/storage-classes: holds CDK tokens" in out
    for path in tmp_path.rglob("*.k8s.yaml"):
        for obj in yaml.safe_load_all(path.read_text()):
            assert "${Token[" not in yaml.safe_dump(obj)
            validate(obj)

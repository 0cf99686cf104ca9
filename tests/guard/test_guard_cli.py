"""`eks-ai-data guard` on real assemblies: exit codes, JSON on stdout, errors on stderr, unreadable input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from guard_apps import DATA

from eks_ai_data.cli import main

CONSTRUCTS = str(Path(__file__).resolve().parents[2] / "constructs")


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["guard", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _error(capsys, *argv: str) -> str:
    code, out, err = _run(capsys, *argv)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("eks-ai-data guard: error: cannot read the cloud assembly: ")
    return err


def test_exit_codes_and_flags(assemblies, capsys):
    base, renamed = str(assemblies("baseline")), str(assemblies("renamed"))
    assert _run(capsys, base, base)[0] == 0
    code, out, err = _run(capsys, base, renamed)
    assert (code, err) == (1, "")
    assert "FAIL moved: GuardMovable/" in out
    code, out, _ = _run(capsys, "--allow-refactor", base, renamed)
    assert code == 0 and "WARN moved: GuardMovable/" in out


def test_json_goes_to_stdout(assemblies, capsys):
    base, removed = str(assemblies("baseline")), str(assemblies("removed"))
    code, out, err = _run(capsys, "--json", base, removed)
    document = json.loads(out)
    assert (code, err, document["ok"]) == (1, "", False)
    assert document["old"] == base and document["new"] == removed
    assert {f["kind"] for f in document["findings"]} == {"deleted", "orphaned", "removed"}
    code, out, _ = _run(capsys, "--json", "--allow-orphaned", base, base)
    assert code == 0 and json.loads(out)["findings"] == []


def test_missing_directory_and_manifest(assemblies, capsys, tmp_path):
    base = str(assemblies("baseline"))
    assert _error(capsys, str(tmp_path / "nowhere"), base).endswith(
        f"{tmp_path / 'nowhere'} does not exist\n"
    )
    (tmp_path / "file").write_text("x")
    assert _error(capsys, base, str(tmp_path / "file")).endswith("is not a directory\n")
    assert _error(capsys, base, str(tmp_path)).endswith(f"{tmp_path / 'manifest.json'} does not exist\n")


def test_malformed_manifest_template_and_layout(assemblies, capsys, tmp_path):
    base = assemblies("baseline")
    (tmp_path / "manifest.json").write_text("{not json")
    assert "manifest.json is not readable JSON" in _error(capsys, str(base), str(tmp_path))
    (tmp_path / "manifest.json").write_text('{"version": "55.0.0"}')
    assert "has no artifacts object: not a cloud assembly manifest" in _error(
        capsys, str(base), str(tmp_path)
    )

    broken = tmp_path / "broken"
    shutil.copytree(base, broken)
    manifest = json.loads((broken / "manifest.json").read_text())
    template = broken / manifest["artifacts"][DATA]["properties"]["templateFile"]
    template.write_text("[]")
    assert "GuardData.template.json is not a CloudFormation template" in _error(
        capsys, str(base), str(broken)
    )
    template.unlink()
    assert "GuardData.template.json does not exist" in _error(capsys, str(base), str(broken))

    del manifest["artifacts"][DATA]["properties"]["templateFile"]
    (broken / "manifest.json").write_text(json.dumps(manifest))
    assert "stack GuardData names no templateFile" in _error(capsys, str(base), str(broken))


def test_missing_nested_template_is_an_error(assemblies, capsys, tmp_path):
    broken = tmp_path / "nested"
    shutil.copytree(assemblies("baseline"), broken)
    (nested,) = broken.glob("*.nested.template.json")
    nested.unlink()
    assert f"{nested.name} does not exist" in _error(capsys, str(assemblies("baseline")), str(broken))


def test_without_cfn_lint_the_guard_says_what_to_install(monkeypatch, capsys, assemblies):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "cfnlint" else real(name, *a)
    )
    base = str(assemblies("baseline"))
    code, out, err = _run(capsys, base, base)
    assert (code, out) == (2, "")
    assert err == (
        "eks-ai-data: error: the guard reads CloudFormation's resource schemas from cfn-lint, which is not "
        "installed: pip install 'eks-ai-data[guard]'\n"
    )


def test_version_and_help_document_exit_codes(capsys):
    from eks_ai_data import __version__

    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"eks-ai-data {__version__}\n"
    assert main(["guard", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "Exit codes: 0 no stateful resource would lose data" in text
    assert "2 the comparison could not run" in text
    assert '"schema": "eks-ai-data.guard/1"' in text


def test_console_script_runs_in_a_fresh_interpreter(assemblies):
    base = str(assemblies("baseline"))
    result = subprocess.run(
        [sys.executable, "-m", "eks_ai_data.cli", "guard", "--json", base, str(assemblies("replace"))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout)["summary"]["failures"] == 17


@pytest.mark.parametrize("argv", [["guard"], ["guard", "only-one"]])
def test_usage_errors_exit_2(argv, capsys):
    assert main(argv) == 2
    assert "usage: eks-ai-data guard" in capsys.readouterr().err

"""The validation results cache: a template is validated again whenever anything its result depends on changed, and
only then; the cache is never trusted when others can write it.

``tests/test_concurrent_validation.py`` shows that reports served from the cache equal aws-cdk-lib's built-in
plugin's; this file checks the keys, the storage and the plugin's use of them, with a worker that counts its calls.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from eks_ai_data import _validation_cache as vc
from eks_ai_data import concurrent_validation as cv

OPTIONS = cv.validate_options("111111111111", "eu-west-1")
TEMPLATE = b'{"Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}}}'


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> vc.ResultCache:
    monkeypatch.delenv(vc.ENV, raising=False)
    opened = vc.ResultCache.open(tmp_path, "cloudformation-validate-2.275.0-1-2", b"worker script")
    assert opened is not None
    return opened


def test_the_default_folder_follows_the_cache_root(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv(vc.ENV, raising=False)
    assert vc.cache_folder(tmp_path) == tmp_path / "validation-results"
    monkeypatch.setenv(vc.ENV, str(tmp_path / "mine"))
    assert vc.cache_folder(tmp_path) == tmp_path / "mine"
    for off in ("off", "OFF", " off "):
        monkeypatch.setenv(vc.ENV, off)
        assert vc.cache_folder(tmp_path) is None
        assert vc.ResultCache.open(tmp_path, "engine", b"") is None
    assert not (tmp_path / "validation-results").exists()


def test_the_folder_is_created_private(cache) -> None:
    assert cache.folder.stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o722])
def test_a_folder_others_can_write_is_not_used(tmp_path, monkeypatch, capsys, mode) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(mode)
    monkeypatch.setenv(vc.ENV, str(folder))
    assert vc.ResultCache.open(tmp_path, "engine", b"") is None
    assert f"validation results are not cached: {folder}" in capsys.readouterr().err


def test_a_folder_that_cannot_be_created_disables_the_cache(tmp_path, monkeypatch, capsys) -> None:
    (tmp_path / "file").write_text("")
    monkeypatch.setenv(vc.ENV, str(tmp_path / "file" / "below"))
    assert vc.ResultCache.open(tmp_path, "engine", b"") is None
    assert "validation results are not cached" in capsys.readouterr().err


def test_the_key_covers_everything_the_result_depends_on(cache, tmp_path) -> None:
    key = cache.key("Stack.template.json", TEMPLATE, OPTIONS)
    assert cache.key("Stack.template.json", TEMPLATE, dict(reversed(list(OPTIONS.items())))) == key
    assert cache.key("Stack.template.json", TEMPLATE + b" ", OPTIONS) != key
    assert cache.key("Other.template.json", TEMPLATE, OPTIONS) != key
    assert cache.key("Stack.template.json", TEMPLATE, cv.validate_options("111111111111", "us-east-1")) != key
    assert cache.key("Stack.template.json", TEMPLATE, {**OPTIONS, "severityLevel": "ERROR"}) != key
    # the name and the bytes are not confused with each other
    assert cache.key("a", b"bc", OPTIONS) != cache.key("ab", b"c", OPTIONS)
    other_engine = vc.ResultCache(cache.folder, "cloudformation-validate-2.276.0-1-2", b"worker script")
    other_worker = vc.ResultCache(cache.folder, "cloudformation-validate-2.275.0-1-2", b"worker script 2")
    assert other_engine.key("Stack.template.json", TEMPLATE, OPTIONS) != key
    assert other_worker.key("Stack.template.json", TEMPLATE, OPTIONS) != key


def test_results_and_the_engine_description_round_trip(cache) -> None:
    key = cache.key("S.template.json", TEMPLATE, OPTIONS)
    assert cache.get(key) is None
    found = [{"ruleId": "E3002", "severity": "ERROR", "message": "bad", "logicalId": "Bucket"}]
    cache.put(key, found)
    assert cache.get(key) == found
    cache.put(key, [])
    assert cache.get(key) == []  # no findings is a result too
    assert cache.engine() is None
    hello = {"ready": True, "version": "1.2.3", "rules": [{"id": "E1", "severity": "ERROR"}]}
    cache.put_engine(hello)
    assert cache.engine() == hello
    assert not list(cache.folder.glob(".entry-*"))  # written atomically, nothing left over


@pytest.mark.parametrize("content", [b"", b"{", b"[]", b'{"diagnostics": 3}', b'{"diagnostics": [1]}'])
def test_an_unreadable_entry_is_a_miss_and_is_replaced(cache, content) -> None:
    key = cache.key("S.template.json", TEMPLATE, OPTIONS)
    (cache.folder / f"{key}.json").write_bytes(content)
    assert cache.get(key) is None
    cache.put(key, [{"ruleId": "W1"}])
    assert cache.get(key) == [{"ruleId": "W1"}]


def test_an_engine_description_that_is_not_ready_is_not_used(cache) -> None:
    cache.put_engine({"error": "the engine did not start"})
    assert cache.engine() is None


def test_the_least_recently_used_entries_go_first(cache, monkeypatch) -> None:
    monkeypatch.setattr(vc, "MAX_ENTRIES", 3)
    cache.put_engine({"ready": True, "version": "1", "rules": []})
    keys = [cache.key(f"S{i}.template.json", TEMPLATE, OPTIONS) for i in range(5)]
    for age, key in enumerate(keys[:3]):
        cache.put(key, [])
        os.utime(cache.folder / f"{key}.json", ns=(10**18 + age, 10**18 + age))
    assert cache.get(keys[0]) == []  # read: now the most recently used
    cache.put(keys[3], [])
    assert cache.get(keys[1]) is None  # the least recently used
    assert all(cache.get(k) == [] for k in (keys[0], keys[2], keys[3]))
    assert cache.engine() is not None  # the engine's description is not a result and is kept
    assert len(list(cache.folder.glob("*.json"))) == 4


class _CountingWorker:
    def __init__(self) -> None:
        self.validated: list[str] = []
        self.hellos = 0

    def hello(self) -> dict[str, Any]:
        self.hellos += 1
        return {"ready": True, "version": "9.9.9", "rules": [{"id": "E3002", "severity": "ERROR"}]}

    def validate(self, template_path: str, options: Any) -> list[dict[str, Any]]:
        self.validated.append(Path(template_path).name)
        return [
            {
                "ruleId": "E3002",
                "severity": "ERROR",
                "message": json.loads(Path(template_path).read_text())["m"],
            }
        ]


@pytest.fixture
def plugin(tmp_path, monkeypatch) -> tuple[cv.ConcurrentCloudFormationValidation, _CountingWorker]:
    worker = _CountingWorker()
    monkeypatch.setattr(cv, "_shared_worker", lambda package: worker)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv(vc.ENV, raising=False)
    return cv.ConcurrentCloudFormationValidation(tmp_path / "cloudformation-validate-x"), worker


def test_the_plugin_validates_a_template_again_only_when_it_changed(plugin, tmp_path) -> None:
    validation, worker = plugin
    template = tmp_path / "out" / "Stack.template.json"
    template.parent.mkdir()
    template.write_text(json.dumps({"m": "first"}))
    first = validation._diagnostics(str(template), OPTIONS)
    again = validation._diagnostics(str(template), OPTIONS)
    assert first == again == [{"ruleId": "E3002", "severity": "ERROR", "message": "first"}]
    assert worker.validated == ["Stack.template.json"]
    template.write_text(json.dumps({"m": "second"}))
    assert validation._diagnostics(str(template), OPTIONS)[0]["message"] == "second"
    validation._diagnostics(str(template), cv.validate_options(None, "us-east-1"))
    assert worker.validated == ["Stack.template.json"] * 3
    # another output folder, the same file name and bytes: the same result (a template's paths are relative)
    moved = tmp_path / "elsewhere" / "Stack.template.json"
    moved.parent.mkdir()
    moved.write_bytes(template.read_bytes())
    validation._diagnostics(str(moved), OPTIONS)
    assert len(worker.validated) == 3
    assert (tmp_path / "xdg" / "eks-ai-data" / "validation-results").is_dir()


def test_the_engine_is_asked_for_its_rules_once_per_engine(plugin, tmp_path, monkeypatch) -> None:
    validation, worker = plugin
    assert validation.version == "9.9.9" and validation.rule_ids == ["E3002"]
    assert worker.hellos == 1
    later = cv.ConcurrentCloudFormationValidation(tmp_path / "cloudformation-validate-x")
    assert later.version == "9.9.9" and later.rule_ids == ["E3002"]
    assert worker.hellos == 1
    newer = cv.ConcurrentCloudFormationValidation(tmp_path / "cloudformation-validate-y")
    assert newer.version == "9.9.9"
    assert worker.hellos == 2


def test_with_the_cache_off_every_template_is_validated(plugin, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(vc.ENV, "off")
    validation = cv.ConcurrentCloudFormationValidation(tmp_path / "cloudformation-validate-x")
    _, worker = plugin
    template = tmp_path / "Stack.template.json"
    template.write_text(json.dumps({"m": "x"}))
    validation._diagnostics(str(template), OPTIONS)
    validation._diagnostics(str(template), OPTIONS)
    assert worker.validated == ["Stack.template.json"] * 2
    assert validation.version == "9.9.9" and validation.version == "9.9.9"
    assert worker.hellos == 2
    assert not list((tmp_path / "xdg").rglob("*.json"))  # nothing kept

"""The CloudFormation validation engine's results, kept per template, so that an unchanged stack is not validated again.

What the engine reports for a template depends only on what it is given: the template's bytes, the name that
labels them, the options and the engine with its rules (``@aws/cloudformation-validate``: ``validateTemplate``
reads the template through ``TemplateFile.readBytes`` and nothing else). A ``cdk synth`` in the edit loop writes
most templates byte for byte as the previous synthesis wrote them, so their diagnostics are read from here instead
of being computed again: the reference app's four templates take about 0.4 s of the engine's time after
synthesis, on the app's critical path.

An entry's key is the SHA-256 of everything the result depends on: the engine (the aws-cdk-lib package it was
extracted from, :func:`eks_ai_data.concurrent_validation.engine_package`), the worker script that translates the
engine's report, the options, the template file's name and its bytes. The engine's own description (its version
and rules, needed for the report's header) is kept the same way, per engine and worker script.

``EKS_AI_DATA_VALIDATION_CACHE`` chooses the folder: unset, ``$XDG_CACHE_HOME/eks-ai-data/validation-results``
(``~/.cache/...``); ``off``, no cache (every template is validated); anything else, that folder. The folder must
belong to the user and not be writable by group or others (entries decide what validation reports): otherwise the
cache is not used, and stderr says why. At most :data:`MAX_ENTRIES` results are kept, the least recently used
removed first; an entry that cannot be read is a miss, and is replaced.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ENV = "EKS_AI_DATA_VALIDATION_CACHE"
#: Results kept (one small JSON file each): about 60 syntheses of a four-stack app whose every template changed.
MAX_ENTRIES = 256
#: Bumped when what an entry holds changes meaning.
_FORMAT = "1"


def cache_folder(base: Path) -> Path | None:
    """The folder ``EKS_AI_DATA_VALIDATION_CACHE`` chooses (``base / "validation-results"`` when it is unset), or
    ``None`` for ``off``."""
    chosen = os.environ.get(ENV, "")
    if chosen.strip().lower() == "off":
        return None
    return Path(chosen) if chosen else base / "validation-results"


def _private_folder(folder: Path) -> bool:
    """Create ``folder`` (mode 0700) if needed; whether it is a folder of this user that only this user can write."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.stat()
    if not stat.S_ISDIR(info.st_mode):
        return False
    return info.st_uid == os.getuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


class ResultCache:
    """Diagnostics per template and the engine's description, in one folder, for one engine and worker script.

    :param folder: where the entries are kept (created, mode 0700).
    :param engine: what identifies the engine and its rules (the extracted package's folder name).
    :param worker: the bytes of the worker script that reports the engine's findings.
    """

    def __init__(self, folder: Path, engine: str, worker: bytes) -> None:
        self.folder = folder
        self._scope = hashlib.sha256(
            json.dumps([_FORMAT, engine, hashlib.sha256(worker).hexdigest()]).encode()
        ).hexdigest()

    @classmethod
    def open(cls, base: Path, engine: str, worker: bytes) -> ResultCache | None:
        """The cache ``EKS_AI_DATA_VALIDATION_CACHE`` selects, or ``None`` (off, or a folder it must not trust or
        cannot create; the reason goes to stderr)."""
        folder = cache_folder(base)
        if folder is None:
            return None
        try:
            trusted = _private_folder(folder)
        except OSError as error:
            print(f"eks-ai-data: validation results are not cached ({error})", file=sys.stderr)
            return None
        if not trusted:
            print(
                f"eks-ai-data: validation results are not cached: {folder} is not a folder that only this user can write",
                file=sys.stderr,
            )
            return None
        return cls(folder, engine, worker)

    def key(self, name: str, template: bytes, options: Mapping[str, Any]) -> str:
        """The entry of a template: its file name, its bytes and the options it is validated with."""
        digest = hashlib.sha256(json.dumps([self._scope, name, options], sort_keys=True).encode())
        digest.update(b"\0")
        digest.update(template)
        return digest.hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def get(self, key: str) -> list[dict[str, Any]] | None:
        """The diagnostics kept for ``key``, or ``None``."""
        value = self._read(self._path(key), "diagnostics")
        return value if isinstance(value, list) and all(isinstance(d, dict) for d in value) else None

    def put(self, key: str, diagnostics: list[dict[str, Any]]) -> None:
        """Keep ``diagnostics`` for ``key``, then remove the least recently used entries beyond :data:`MAX_ENTRIES`."""
        self._write(self._path(key), {"diagnostics": diagnostics})
        self._prune()

    def engine(self) -> dict[str, Any] | None:
        """The engine's description (its first message: version and rules), if kept."""
        value = self._read(self.folder / f"engine-{self._scope}.json", "engine")
        return value if isinstance(value, dict) and value.get("ready") is True else None

    def put_engine(self, hello: Mapping[str, Any]) -> None:
        self._write(self.folder / f"engine-{self._scope}.json", {"engine": dict(hello)})

    def _read(self, path: Path, field: str) -> Any:
        try:
            value = json.loads(path.read_bytes())[field]
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            path.unlink(missing_ok=True)  # unreadable: a miss, written again after validation
            return None
        try:
            os.utime(path)  # recently used
        except OSError:
            pass
        return value

    def _write(self, path: Path, value: Mapping[str, Any]) -> None:
        try:
            fd, staging = tempfile.mkstemp(prefix=".entry-", dir=self.folder)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(value, f)
            os.replace(staging, path)  # atomic: a concurrent synthesis reads all of it or nothing
        except OSError as error:
            print(f"eks-ai-data: a validation result was not cached ({error})", file=sys.stderr)

    def _prune(self) -> None:
        entries = []
        for path in self.folder.glob(".entry-*"):  # left by a process that ended while writing
            try:
                if path.stat().st_mtime < time.time() - 3600:
                    path.unlink(missing_ok=True)
            except FileNotFoundError:
                pass
        for path in self.folder.glob("*.json"):
            if path.name.startswith("engine-"):
                continue
            try:
                entries.append((path.stat().st_mtime_ns, path))
            except FileNotFoundError:
                pass
        entries.sort()
        for _, path in entries[: max(0, len(entries) - MAX_ENTRIES)]:
            path.unlink(missing_ok=True)

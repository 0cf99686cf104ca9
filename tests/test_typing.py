"""The public API is typed: every lazy export has a typed re-export, and mypy checks a user's app against it.

``eks_ai_data`` imports its public names lazily (PEP 562 ``__getattr__``), which type checkers cannot follow: each
name is also imported under ``if TYPE_CHECKING:`` as ``from .module import Name as Name``. The first tests hold that
block to ``_EXPORTS`` (parsed with ast, nothing imported); the others run mypy (the project's configuration,
pyproject.toml) once on a small app written the documented way, in a correct and a mistaken version.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "constructs" / "eks_ai_data"


def _literal(tree: ast.Module, name: str) -> object:
    for node in tree.body:
        target = node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        if isinstance(target, ast.Name) and target.id == name and node.value is not None:
            try:
                return ast.literal_eval(node.value)
            except ValueError:  # computed
                return None
    return None


def _typed_reexports(tree: ast.Module) -> dict[str, str]:
    """``{name: module}`` for every ``from .module import name as name`` under a module-level ``if TYPE_CHECKING:``."""
    found: dict[str, str] = {}
    for node in tree.body:
        if not (
            isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
        ):
            continue
        for statement in node.body:
            if isinstance(statement, ast.ImportFrom) and statement.level == 1:
                for alias in statement.names:
                    if alias.asname == alias.name:  # the explicit re-export form (PEP 484)
                        found[alias.name] = statement.module or ""
    return found


def _lazy_packages() -> list[Path]:
    """Every ``__init__.py`` of the package that exports names through a module ``__getattr__``."""
    return sorted(
        path
        for path in PACKAGE.rglob("__init__.py")
        if any(
            isinstance(node, ast.FunctionDef) and node.name == "__getattr__"
            for node in ast.parse(path.read_text()).body
        )
    )


def test_the_top_level_package_is_lazy_and_checked():
    assert PACKAGE / "__init__.py" in _lazy_packages()


@pytest.mark.parametrize("init", _lazy_packages(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_lazy_export_has_a_typed_reexport_from_its_module(init):
    tree = ast.parse(init.read_text())
    exports = _literal(tree, "_EXPORTS")
    assert isinstance(exports, dict) and exports, (
        f"{init}: a lazy package keeps its names in an _EXPORTS literal"
    )
    typed = _typed_reexports(tree)
    missing = sorted(set(exports) - set(typed))
    assert not missing, f"names without `from .module import Name as Name` under TYPE_CHECKING: {missing}"
    extra = sorted(set(typed) - set(exports))
    assert not extra, f"typed re-exports that _EXPORTS does not export at run time: {extra}"
    elsewhere = {n: (typed[n], m) for n, m in exports.items() if typed[n] != m}
    assert not elsewhere, f"typed from another module than at run time (typed, run time): {elsewhere}"


@pytest.mark.parametrize(
    "init", sorted(PACKAGE.rglob("__init__.py")), ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_every_name_in_all_is_bound_for_type_checkers(init):
    """A literal ``__all__`` must name imported or defined names; a computed one must follow ``_EXPORTS``."""
    tree = ast.parse(init.read_text())
    exported = _literal(tree, "__all__")
    if exported is None:  # computed (the lazy form): sorted([*_EXPORTS, "__version__"])
        exports = _literal(tree, "_EXPORTS")
        if exports is None:
            return  # no public names (a namespace of modules)
        exported = [*exports, "__version__"] if _literal(tree, "__version__") is not None else [*exports]
    bound = set(_typed_reexports(tree))
    for node in tree.body:
        if isinstance(node, ast.ImportFrom | ast.Import):
            bound.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.ClassDef | ast.FunctionDef):
            bound.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            bound.update(t.id for t in targets if isinstance(t, ast.Name))
    assert sorted(set(exported) - bound) == []


# -- mypy on a user's app -------------------------------------------------------------------------------------------

#: A platform written the way the README shows: names from ``eks_ai_data``, keyword props.
GOOD_APP = """\
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2

from eks_ai_data import (
    AiCluster,
    ClusterStorage,
    DataKeys,
    GpuNodeGroup,
    LustreSize,
    LustreStore,
    LustreVolumeSpec,
    size_lustre,
)


def build(app: cdk.App) -> AiCluster:
    stack = cdk.Stack(app, "Platform")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
    keys = DataKeys(stack, "Keys")
    platform = AiCluster(stack, "Platform", vpc=vpc, keys=keys, version="1.33")
    sizing: LustreSize = size_lustre(read_throughput_mbps=2000, dataset_gib=4800)
    capacity: int = sizing.storage_capacity_gib
    lustre = LustreStore(
        stack,
        "Lustre",
        vpc=vpc,
        subnet=vpc.private_subnets[0],
        node_security_groups=[platform.node_security_group],
        kms_key=keys.data_key,
        storage_capacity_gib=capacity,
        per_unit_storage_throughput=sizing.per_unit_storage_throughput,
    )
    GpuNodeGroup(stack, "Gpu", cluster=platform, instance_types=["p5.48xlarge"], max_size=4)
    storage = ClusterStorage(stack, "InCluster", cluster=platform, namespaces=["training"])
    storage.add_static_volumes(
        "Datasets",
        lustre_volumes=[
            LustreVolumeSpec(
                name="training-datasets",
                file_system_id=lustre.file_system_id,
                dns_name=lustre.dns_name,
                mount_name=lustre.mount_name,
                storage_capacity_gib=lustre.storage_capacity_gib,
                namespace="training",
                availability_zone=lustre.availability_zone,
            )
        ],
    )
    return platform
"""

#: (line of the correct app, the mistaken line, the mypy error code it must draw, where mypy reports it: the start
#: of the reported line, when not the mistaken line itself)
MISTAKES = [
    # a wrong prop type: a string where the capacity in GiB (int) goes
    ("        storage_capacity_gib=capacity,\n", '        storage_capacity_gib="4800",\n', "arg-type", None),
    # a misspelled keyword
    (
        '    platform = AiCluster(stack, "Platform", vpc=vpc, keys=keys, version="1.33")\n',
        '    platform = AiCluster(stack, "Platform", vpc=vpc, keys=keys, verison="1.33")\n',
        "call-arg",
        None,
    ),
    # a return value used as what it is not: size_lustre's LustreSize has no storage_capacity_gb
    (
        "    capacity: int = sizing.storage_capacity_gib\n",
        "    capacity: int = sizing.storage_capacity_gb\n",
        "attr-defined",
        None,
    ),
    # a returned construct passed where the cluster goes (a LustreStore is no IAiCluster)
    (
        '    storage = ClusterStorage(stack, "InCluster", cluster=platform, namespaces=["training"])\n',
        '    storage = ClusterStorage(stack, "InCluster", cluster=lustre, namespaces=["training"])\n',
        "arg-type",
        None,
    ),
    # a required prop left out (mypy reports it at the call)
    (
        '                namespace="training",\n',
        "                # namespace left out\n",
        "call-arg",
        "            LustreVolumeSpec(",
    ),
]

_ERROR = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): error: (?P<message>.*?)  \[(?P<code>[a-z-]+)\]$")


def _mistaken_app() -> tuple[str, list[tuple[int, str]]]:
    """The app with every mistake made (one line each, so line numbers stay those of the correct app), and the
    ``(line number, error code)`` mypy must report for each mistake, in :data:`MISTAKES` order."""
    lines = GOOD_APP.splitlines(keepends=True)
    expected: list[tuple[int, str]] = []
    for good, bad, code, reported_at in MISTAKES:
        assert lines.count(good) == 1, good
        index = lines.index(good)
        lines[index] = bad
        if reported_at is not None:
            index = max(i for i in range(index) if lines[i].startswith(reported_at))
        expected.append((index + 1, code))
    return "".join(lines), expected


@pytest.fixture(scope="module")
def mypy_report(tmp_path_factory):
    """One mypy run (the project's configuration and cache) over the correct and the mistaken app."""
    from mypy import api

    where = tmp_path_factory.mktemp("typed_app")
    good = where / "good_app.py"
    bad = where / "bad_app.py"
    good.write_text(GOOD_APP)
    source, expected = _mistaken_app()
    bad.write_text(source)
    stdout, stderr, status = api.run(
        [
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(ROOT / ".mypy_cache"),
            "--no-pretty",
            str(good),
            str(bad),
        ]
    )
    errors: dict[str, list[tuple[int, str, str]]] = {"good": [], "bad": [], "other": []}
    for line in stdout.splitlines():
        match = _ERROR.match(line)
        if match is None:
            continue
        name = Path(match["file"]).name
        kind = {"good_app.py": "good", "bad_app.py": "bad"}.get(name, "other")
        errors[kind].append((int(match["line"]), match["code"], match["message"]))
    return {"errors": errors, "expected": expected, "stdout": stdout, "stderr": stderr, "status": status}


def test_mypy_ran(mypy_report):
    assert mypy_report["stderr"] == ""
    assert mypy_report["errors"]["other"] == [], mypy_report["stdout"]


def test_the_documented_app_type_checks_clean(mypy_report):
    assert mypy_report["errors"]["good"] == [], mypy_report["stdout"]


@pytest.mark.parametrize("index", range(len(MISTAKES)), ids=[f"{i}-{m[2]}" for i, m in enumerate(MISTAKES)])
def test_each_mistake_is_reported(mypy_report, index):
    source, expected = _mistaken_app()
    line, code = expected[index]
    found = [(n, c) for n, c, _ in mypy_report["errors"]["bad"]]
    assert (line, code) in found, (source.splitlines()[line - 1], mypy_report["stdout"])


def test_the_mistaken_app_draws_no_other_error(mypy_report):
    _, expected = _mistaken_app()
    found = {(n, code) for n, code, _ in mypy_report["errors"]["bad"]}
    assert found == set(expected), mypy_report["stdout"]
    assert mypy_report["status"] == 1

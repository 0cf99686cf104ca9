"""The PyTorch training jobs: schema, snapshot, placement, identity, volumes, torchrun wiring, bad input."""

from __future__ import annotations

import ast
import functools
import os
import runpy
from pathlib import Path
from typing import Any

import cdk8s
import kubernetes_validate
import pytest
import yaml
from syrupy.extensions.json import JSONSnapshotExtension

from eks_ai_data import labels
from eks_ai_data.errors import EksAiDataValidationError
from eks_ai_data.versions import DEFAULT_KUBERNETES_VERSION
from tests.platform.pod_security import violations
from training_job import GPU_COUNTS, PYTORCH_IMAGE, TRAIN_SCRIPT, TrainingJobChart, build
from training_job.chart import SHM_DIR, TMP_DIR

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
APP_DIR = Path(__file__).resolve().parents[1]


@functools.cache
def manifests() -> dict[str, list[dict[str, Any]]]:
    """The example app's charts (built once), as the objects they emit, by chart id."""
    app = cdk8s.App()
    return {chart.node.id: chart.to_json() for chart in build(app)}


def objects(chart_id: str, kind: str) -> list[dict[str, Any]]:
    return [o for o in manifests()[chart_id] if o["kind"] == kind]


def job(chart_id: str) -> dict[str, Any]:
    (found,) = objects(chart_id, "Job")
    return found


def pod(chart_id: str) -> dict[str, Any]:
    return job(chart_id)["spec"]["template"]["spec"]


def trainer(chart_id: str) -> dict[str, Any]:
    (container,) = pod(chart_id)["containers"]
    return container


def env(chart_id: str) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in trainer(chart_id).get("env", [])}


def mounts(chart_id: str) -> dict[str, dict[str, Any]]:
    return {m["mountPath"]: m for m in trainer(chart_id)["volumeMounts"]}


def volumes(chart_id: str) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in pod(chart_id)["volumes"]}


def script_args(chart_id: str) -> dict[str, str]:
    """The ``--name=value`` arguments after the script path (the script's own arguments)."""
    args = trainer(chart_id)["args"]
    start = args.index(f"/opt/train/{TRAIN_SCRIPT.name}")
    return dict(arg.removeprefix("--").split("=", 1) for arg in args[start + 1 :])


SINGLE, MULTI = "gpt-single-node", "gpt-multi-node"
ALL = [(chart_id, i) for chart_id, objs in manifests().items() for i in range(len(objs))]


# -- schema and snapshot ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("chart_id", "index"), ALL, ids=[f"{c}-{i}" for c, i in ALL])
def test_object_is_valid_for_the_cluster_version(chart_id, index):
    obj = manifests()[chart_id][index]
    kubernetes_validate.validate(obj, DEFAULT_KUBERNETES_VERSION + ".0", strict=True)


def test_the_app_ships_a_single_node_and_a_multi_node_job():
    assert {c: sorted(o["kind"] for o in objs) for c, objs in manifests().items()} == {
        SINGLE: ["ConfigMap", "Job"],
        MULTI: ["ConfigMap", "Job", "Service"],
    }


@pytest.mark.parametrize("chart_id", [SINGLE, MULTI])
def test_manifests_snapshot(chart_id, snapshot):
    assert manifests()[chart_id] == snapshot(extension_class=JSONSnapshotExtension)


def test_app_writes_the_manifests_to_dist(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(APP_DIR / "app.py"), run_name="__main__")
    for chart_id, expected in manifests().items():
        written = list(yaml.safe_load_all((tmp_path / "dist" / f"{chart_id}.k8s.yaml").read_text()))
        assert written == expected


# -- placement, identity, resources ----------------------------------------------------------------------


@pytest.mark.parametrize("chart_id", [SINGLE, MULTI])
def test_pods_run_as_the_training_identity_on_gpu_nodes_with_nvme(chart_id):
    spec = pod(chart_id)
    assert job(chart_id)["metadata"]["namespace"] == "training"
    assert spec["serviceAccountName"] == "trainer"
    assert spec["nodeSelector"] == {
        labels.ACCELERATOR_LABEL: labels.ACCELERATOR_NVIDIA,
        labels.LOCAL_NVME_LABEL: labels.LOCAL_NVME_RAID0,
    }
    # tolerates exactly the taint GpuNodeGroup puts on NVIDIA nodes
    assert spec["tolerations"] == [
        {"key": labels.GPU_TAINT_KEY, "operator": "Exists", "effect": labels.TAINT_EFFECT}
    ]
    assert spec["restartPolicy"] == "Never"
    assert trainer(chart_id)["image"] == PYTORCH_IMAGE
    assert trainer(chart_id)["resources"]["limits"]["nvidia.com/gpu"] == 8


def test_efa_devices_only_where_asked():
    assert "vpc.amazonaws.com/efa" not in trainer(SINGLE)["resources"]["limits"]
    assert "FI_PROVIDER" not in env(SINGLE)
    assert trainer(MULTI)["resources"]["limits"]["vpc.amazonaws.com/efa"] == 32
    assert env(MULTI)["FI_PROVIDER"] == "efa"


@pytest.mark.parametrize("chart_id", [SINGLE, MULTI])
def test_least_privilege_security_context(chart_id):
    assert pod(chart_id)["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 1000,
        "runAsGroup": 1000,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert trainer(chart_id)["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
    }


@pytest.mark.parametrize("chart_id", [SINGLE, MULTI])
def test_the_jobs_run_in_a_namespace_that_enforces_pod_security_restricted(chart_id):
    """The platform's namespaces enforce ``restricted`` (EFA needs no exception: the device plugin hands the
    devices to the container itself, so the pod spec holds no privilege, host path or added capability; EKS user
    guide node-efa: "does not require a Pod to run in privileged mode")."""
    assert violations(pod(chart_id), "restricted") == []


# -- volumes ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("chart_id", [SINGLE, MULTI])
def test_dataset_claim_is_mounted_read_only_and_checkpoints_read_write(chart_id):
    vols, mnts = volumes(chart_id), mounts(chart_id)
    assert vols["fsx"]["persistentVolumeClaim"] == {"claimName": "datasets"}
    assert mnts["/fsx/datasets"] == {
        "name": "fsx",
        "mountPath": "/fsx/datasets",
        "subPath": "datasets",
        "readOnly": True,
    }
    assert mnts["/fsx/checkpoints"] == {
        "name": "fsx",
        "mountPath": "/fsx/checkpoints",
        "subPath": "checkpoints",
    }
    args = script_args(chart_id)
    assert args["data"] == "/fsx/datasets/tokens/train.bin"
    assert args["durable-checkpoints"] == f"/fsx/checkpoints/{chart_id}"


@pytest.mark.parametrize("chart_id", [SINGLE, MULTI])
def test_nvme_scratch_shared_memory_and_tmp_are_empty_dirs(chart_id):
    vols, mnts = volumes(chart_id), mounts(chart_id)
    assert vols["scratch"]["emptyDir"] == {"sizeLimit": "500Gi"}
    assert mnts["/scratch"]["name"] == "scratch"
    assert script_args(chart_id)["local-checkpoints"] == "/scratch/checkpoints"
    assert vols["shm"]["emptyDir"] == {"medium": "Memory", "sizeLimit": "64Gi"}
    assert mnts[SHM_DIR]["name"] == "shm"
    assert vols["tmp"]["emptyDir"] == {}
    assert mnts[TMP_DIR]["name"] == "tmp"
    assert env(chart_id)["HOME"] == TMP_DIR


@pytest.mark.parametrize("chart_id", [SINGLE, MULTI])
def test_script_comes_from_the_chart_config_map(chart_id):
    (config_map,) = objects(chart_id, "ConfigMap")
    assert volumes(chart_id)["script"]["configMap"] == {"name": config_map["metadata"]["name"]}
    assert mounts(chart_id)["/opt/train"]["readOnly"] is True
    assert config_map["data"] == {"train.py": TRAIN_SCRIPT.read_text(encoding="utf-8")}


def test_training_script_is_valid_python_and_takes_the_arguments_the_jobs_pass():
    source = TRAIN_SCRIPT.read_text(encoding="utf-8")
    tree = ast.parse(compile(source, str(TRAIN_SCRIPT), "exec", flags=ast.PyCF_ONLY_AST))
    options = {
        node.args[0].value.removeprefix("--")
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "attr", "") == "add_argument"
        and isinstance(node.args[0], ast.Constant)
    }
    for chart_id in manifests():
        assert set(script_args(chart_id)) <= options
    compile(source, str(TRAIN_SCRIPT), "exec")


# -- single node vs indexed multi-node -------------------------------------------------------------------


def test_single_node_job_runs_torchrun_standalone():
    spec = job(SINGLE)["spec"]
    assert (spec["completionMode"], spec["completions"], spec["parallelism"]) == ("NonIndexed", 1, 1)
    args = trainer(SINGLE)["args"]
    assert args[:3] == ["--standalone", "--nnodes=1", "--nproc-per-node=8"]
    assert "NODE_RANK" not in env(SINGLE)
    assert "subdomain" not in pod(SINGLE)


def test_multi_node_job_is_indexed_with_a_headless_rendezvous_service():
    spec = job(MULTI)["spec"]
    assert (spec["completionMode"], spec["completions"], spec["parallelism"]) == ("Indexed", 4, 4)
    (service,) = objects(MULTI, "Service")
    assert service["spec"]["clusterIP"] == "None"
    assert service["spec"]["publishNotReadyAddresses"] is True
    assert service["spec"]["selector"] == spec["template"]["metadata"]["labels"]
    assert service["spec"]["ports"] == [{"name": "rendezvous", "port": 29500}]
    # pod i of an Indexed Job is <job>-i; with the Service as subdomain it resolves as <job>-i.<service>
    assert pod(MULTI)["subdomain"] == service["metadata"]["name"]
    variables = env(MULTI)
    assert variables["MASTER_ADDR"] == f"{job(MULTI)['metadata']['name']}-0.{service['metadata']['name']}"
    assert variables["NODE_RANK"] == {
        "fieldRef": {"fieldPath": "metadata.annotations['batch.kubernetes.io/job-completion-index']"}
    }
    args = trainer(MULTI)["args"]
    for expected in (
        "--nnodes=4",
        "--nproc-per-node=8",
        "--node-rank=$(NODE_RANK)",
        "--master-addr=$(MASTER_ADDR)",
        "--master-port=29500",
    ):
        assert expected in args
    assert "--standalone" not in args


# -- bad input -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"nodes": 0}, r"invalid nodes=0: must be at least 1"),
        ({"name": "n" * 62, "nodes": 11}, r"invalid nodes=11: .*at most 63 characters"),
        (
            {"gpus_per_node": 3},
            r"invalid gpus_per_node=3: must be a GPU count of an NVIDIA instance type in the catalog: "
            + ", ".join(map(str, GPU_COUNTS)),
        ),
        ({"efa_interfaces": 33}, r"invalid efa_interfaces=33: must be between 0 and 32"),
        ({"name": "1-job"}, r"invalid name='1-job': must be a DNS-1035 label"),
        ({"namespace": "Training"}, r"invalid namespace='Training': must be a DNS-1123 label"),
        ({"service_account": "trainer_"}, r"invalid service_account='trainer_'"),
        ({"dataset_claim": "Datasets"}, r"invalid dataset_claim='Datasets': must be a DNS-1123 subdomain"),
        ({"dataset_file": "../secrets"}, r"invalid dataset_file='../secrets': must be a relative path"),
        ({"dataset_file": "/tokens/train.bin"}, r"invalid dataset_file='/tokens/train.bin'"),
        ({"steps": 0}, r"invalid steps=0: must be a whole number of at least 1"),
        ({"scratch_gib": 0}, r"invalid scratch_gib=0"),
        ({"shm_gib": 1.5}, r"invalid shm_gib=1.5"),
        ({"run_as_user": 0}, r"invalid run_as_user=0: must be a non-root UID"),
        ({"backoff_limit": -1}, r"invalid backoff_limit=-1"),
    ],
)
def test_invalid_input_is_refused_with_the_chart_path(props, message):
    with pytest.raises(EksAiDataValidationError, match=r"^bad-job: " + message):
        TrainingJobChart(cdk8s.App(), "bad-job", **props)

"""A PyTorch training Job on the platform's GPU nodes, as a cdk8s chart (:class:`TrainingJobChart`)."""

from __future__ import annotations

import re
from pathlib import Path

import cdk8s
from cdk8s_plus_27 import k8s
from constructs import Construct

from eks_ai_data import catalog, labels
from eks_ai_data.errors import check
from eks_ai_data.naming import LABEL_RULE, SUBDOMAIN_RULE, is_dns1123_label, is_dns1123_subdomain

#: NVIDIA's PyTorch container, release 25.12 (PyTorch 2.10.0a0, CUDA 13.1, Python 3.12; published 2025-12-22).
PYTORCH_IMAGE = "nvcr.io/nvidia/pytorch:25.12-py3"
#: The training script, mounted from a ConfigMap.
TRAIN_SCRIPT = Path(__file__).with_name("train.py")
SCRIPT_DIR = "/opt/train"
#: Where the dataset claim's directories appear in the container. The claim is the whole Lustre file system:
#: ``/datasets`` imports from S3, ``/checkpoints`` exports to S3 (see examples/company_app).
DATASETS_DIR = "/fsx/datasets"
CHECKPOINTS_DIR = "/fsx/checkpoints"
#: NVMe scratch: an emptyDir, which on the GPU nodes lives on the instance-store RAID0 array.
SCRATCH_DIR = "/scratch"
#: Memory-backed shared memory (NCCL, data loader workers) and the pod's own temporary directory: emptyDirs.
SHM_DIR = "/dev/shm"  # noqa: S108
TMP_DIR = "/tmp"  # noqa: S108
RENDEZVOUS_PORT = 29500
#: The pod annotation that carries an Indexed Job pod's completion index.
COMPLETION_INDEX = "metadata.annotations['batch.kubernetes.io/job-completion-index']"

_NVIDIA = [
    spec for spec in catalog.all_instance_types() if spec.accelerator_kind == labels.ACCELERATOR_NVIDIA
]
#: GPUs per node that NVIDIA instance types in the catalog have (a pod takes all GPUs of its node).
GPU_COUNTS = tuple(sorted({spec.accelerator_count for spec in _NVIDIA}))
MAX_EFA_INTERFACES = max(spec.max_efa_interfaces for spec in _NVIDIA)
# Services are named after the job, and Service names are DNS-1035 labels (they start with a letter).
_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_RELATIVE_PATH = re.compile(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*")


class TrainingJobChart(cdk8s.Chart):
    """A PyTorch training Job (``torchrun``) on GPU nodes, reading a dataset from FSx for Lustre.

    - ``nodes=1``: a Job with one pod (``torchrun --standalone``).
    - ``nodes>1``: an Indexed Job (``completionMode: Indexed``, ``parallelism = completions = nodes``) and a
      headless Service of the same name for rendezvous: pod *i* is ``<name>-i.<name>``, pod 0 is the
      rendezvous master, and each pod's ``--node-rank`` is its completion index.

    Every pod runs as the ``service_account`` (the training workload identity, bound to an IAM role), on
    nodes labelled ``eks-ai-data/accelerator=nvidia`` with local NVMe RAID0, tolerates the GPU taint, and
    takes ``gpus_per_node`` GPUs (a whole node). Volumes: the dataset claim's ``datasets`` directory
    read-only at ``/fsx/datasets`` and its ``checkpoints`` directory at ``/fsx/checkpoints`` (durable
    checkpoints, exported to S3 by Lustre); NVMe scratch at ``/scratch`` (frequent checkpoints); memory-backed
    ``/dev/shm`` for NCCL and data loaders; the script from a ConfigMap. Containers run as a non-root user
    with a read-only root file system, no privilege escalation, no capabilities and the runtime's default
    seccomp profile.

    :param name: the Job's (and Service's) name, a DNS-1035 label. Default: the chart id.
    :param namespace: Default: ``training``.
    :param service_account: the training workload identity's service account. Default: ``trainer``.
    :param dataset_claim: the claim of the Lustre file system. Default: ``datasets``.
    :param dataset_file: the token file, relative to ``/fsx/datasets``. Default: ``tokens/train.bin``.
    :param image: the PyTorch image. Default: :data:`PYTORCH_IMAGE`.
    :param gpus_per_node: GPUs per pod, one of :data:`GPU_COUNTS`. Default: 8.
    :param nodes: pods (one per node). Default: 1.
    :param efa_interfaces: EFA devices per pod (``vpc.amazonaws.com/efa``), 0 for none; p5.48xlarge has 32.
        Default: 0.
    :param steps: training steps. Default: 10000.
    :param scratch_gib: size limit of the NVMe scratch volume. Default: 500.
    :param shm_gib: size limit of ``/dev/shm`` (counted against the pod's memory). Default: 64.
    :param run_as_user: UID (and GID) of the training process; must be allowed to write the checkpoint
        directory. Default: 1000.
    :param backoff_limit: pod failures before the Job fails. Default: 3.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str | None = None,
        namespace: str = "training",
        service_account: str = "trainer",
        dataset_claim: str = "datasets",
        dataset_file: str = "tokens/train.bin",
        image: str = PYTORCH_IMAGE,
        gpus_per_node: int = 8,
        nodes: int = 1,
        efa_interfaces: int = 0,
        steps: int = 10_000,
        scratch_gib: int = 500,
        shm_gib: int = 64,
        run_as_user: int = 1000,
        backoff_limit: int = 3,
    ) -> None:
        super().__init__(scope, id, namespace=namespace)
        name = name if name is not None else id
        self._check(bool(_DNS1035_LABEL.fullmatch(name)), "name", name, "must be a DNS-1035 label")
        self._check(
            _is_int(nodes) and nodes >= 1 and len(f"{name}-{nodes - 1}") <= 63,
            "nodes",
            nodes,
            "must be at least 1, and pod host names (<name>-<index>) at most 63 characters",
        )
        self._check(is_dns1123_label(namespace), "namespace", namespace, LABEL_RULE)
        self._check(is_dns1123_label(service_account), "service_account", service_account, LABEL_RULE)
        self._check(is_dns1123_subdomain(dataset_claim), "dataset_claim", dataset_claim, SUBDOMAIN_RULE)
        self._check(
            bool(_RELATIVE_PATH.fullmatch(dataset_file)) and ".." not in dataset_file.split("/"),
            "dataset_file",
            dataset_file,
            "must be a relative path under /fsx/datasets, without '..'",
        )
        self._check(
            gpus_per_node in GPU_COUNTS,
            "gpus_per_node",
            gpus_per_node,
            f"must be a GPU count of an NVIDIA instance type in the catalog: {', '.join(map(str, GPU_COUNTS))}",
        )
        self._check(
            _is_int(efa_interfaces) and 0 <= efa_interfaces <= MAX_EFA_INTERFACES,
            "efa_interfaces",
            efa_interfaces,
            f"must be between 0 and {MAX_EFA_INTERFACES} (the most EFA interfaces of a catalog type)",
        )
        for prop, value in (("steps", steps), ("scratch_gib", scratch_gib), ("shm_gib", shm_gib)):
            self._check(_is_int(value) and value >= 1, prop, value, "must be a whole number of at least 1")
        self._check(
            _is_int(run_as_user) and run_as_user >= 1, "run_as_user", run_as_user, "must be a non-root UID"
        )
        self._check(
            _is_int(backoff_limit) and backoff_limit >= 0, "backoff_limit", backoff_limit, "must be >= 0"
        )

        self.job_name = name
        self.indexed = nodes > 1
        pod_labels = {"app.kubernetes.io/name": "pytorch-training", "app.kubernetes.io/instance": name}

        self.script = k8s.KubeConfigMap(
            self,
            "script",
            metadata=k8s.ObjectMeta(name=f"{name}-script", labels=pod_labels),
            data={TRAIN_SCRIPT.name: TRAIN_SCRIPT.read_text(encoding="utf-8")},
        )
        self.service: k8s.KubeService | None = None
        if self.indexed:
            self.service = k8s.KubeService(
                self,
                "rendezvous",
                metadata=k8s.ObjectMeta(name=name, labels=pod_labels),
                spec=k8s.ServiceSpec(
                    cluster_ip="None",
                    selector=pod_labels,
                    publish_not_ready_addresses=True,  # pods find each other before they are Ready
                    ports=[k8s.ServicePort(name="rendezvous", port=RENDEZVOUS_PORT)],
                ),
            )

        container = k8s.Container(
            name="trainer",
            image=image,
            command=["torchrun"],
            args=[*self._torchrun_args(nodes, gpus_per_node), *self._script_args(name, dataset_file, steps)],
            env=self._env(name, efa_interfaces),
            resources=k8s.ResourceRequirements(limits=self._limits(gpus_per_node, efa_interfaces)),
            ports=[k8s.ContainerPort(name="rendezvous", container_port=RENDEZVOUS_PORT)]
            if self.indexed
            else None,
            volume_mounts=[
                k8s.VolumeMount(name="fsx", mount_path=DATASETS_DIR, sub_path="datasets", read_only=True),
                k8s.VolumeMount(name="fsx", mount_path=CHECKPOINTS_DIR, sub_path="checkpoints"),
                k8s.VolumeMount(name="scratch", mount_path=SCRATCH_DIR),
                k8s.VolumeMount(name="shm", mount_path=SHM_DIR),
                k8s.VolumeMount(name="tmp", mount_path=TMP_DIR),
                k8s.VolumeMount(name="script", mount_path=SCRIPT_DIR, read_only=True),
            ],
            security_context=k8s.SecurityContext(
                allow_privilege_escalation=False,
                capabilities=k8s.Capabilities(drop=["ALL"]),
                read_only_root_filesystem=True,
                run_as_non_root=True,
            ),
        )
        pod = k8s.PodSpec(
            service_account_name=service_account,
            restart_policy="Never",
            subdomain=name if self.indexed else None,
            node_selector={
                labels.ACCELERATOR_LABEL: labels.ACCELERATOR_NVIDIA,
                labels.LOCAL_NVME_LABEL: labels.LOCAL_NVME_RAID0,
            },
            tolerations=[
                k8s.Toleration(key=labels.GPU_TAINT.key, operator="Exists", effect=labels.GPU_TAINT.effect)
            ],
            security_context=k8s.PodSecurityContext(
                run_as_non_root=True,
                run_as_user=run_as_user,
                run_as_group=run_as_user,
                seccomp_profile=k8s.SeccompProfile(type="RuntimeDefault"),
            ),
            containers=[container],
            volumes=[
                k8s.Volume(
                    name="fsx",
                    persistent_volume_claim=k8s.PersistentVolumeClaimVolumeSource(claim_name=dataset_claim),
                ),
                k8s.Volume(
                    name="scratch",
                    empty_dir=k8s.EmptyDirVolumeSource(
                        size_limit=k8s.Quantity.from_string(f"{scratch_gib}Gi")
                    ),
                ),
                k8s.Volume(
                    name="shm",
                    empty_dir=k8s.EmptyDirVolumeSource(
                        medium="Memory", size_limit=k8s.Quantity.from_string(f"{shm_gib}Gi")
                    ),
                ),
                k8s.Volume(name="tmp", empty_dir=k8s.EmptyDirVolumeSource()),
                k8s.Volume(name="script", config_map=k8s.ConfigMapVolumeSource(name=self.script.name)),
            ],
        )
        self.job = k8s.KubeJob(
            self,
            "job",
            metadata=k8s.ObjectMeta(name=name, labels=pod_labels),
            spec=k8s.JobSpec(
                completion_mode="Indexed" if self.indexed else "NonIndexed",
                completions=nodes,
                parallelism=nodes,
                backoff_limit=backoff_limit,
                ttl_seconds_after_finished=7 * 24 * 3600,
                template=k8s.PodTemplateSpec(metadata=k8s.ObjectMeta(labels=pod_labels), spec=pod),
            ),
        )

    # -- pieces ---------------------------------------------------------------------------------------
    def _torchrun_args(self, nodes: int, gpus_per_node: int) -> list[str]:
        if not self.indexed:
            return ["--standalone", "--nnodes=1", f"--nproc-per-node={gpus_per_node}", "--max-restarts=3"]
        return [
            f"--nnodes={nodes}",
            f"--nproc-per-node={gpus_per_node}",
            "--node-rank=$(NODE_RANK)",  # expanded by the kubelet from the container's env
            "--master-addr=$(MASTER_ADDR)",
            f"--master-port={RENDEZVOUS_PORT}",
            "--max-restarts=3",
        ]

    @staticmethod
    def _script_args(name: str, dataset_file: str, steps: int) -> list[str]:
        return [
            f"{SCRIPT_DIR}/{TRAIN_SCRIPT.name}",
            f"--data={DATASETS_DIR}/{dataset_file}",
            f"--local-checkpoints={SCRATCH_DIR}/checkpoints",
            f"--durable-checkpoints={CHECKPOINTS_DIR}/{name}",
            f"--steps={steps}",
        ]

    def _env(self, name: str, efa_interfaces: int) -> list[k8s.EnvVar]:
        env = [
            k8s.EnvVar(name="HOME", value=TMP_DIR),  # caches (Triton, Inductor) go to the emptyDir
            k8s.EnvVar(name="PYTHONUNBUFFERED", value="1"),
            k8s.EnvVar(name="PYTHONDONTWRITEBYTECODE", value="1"),
            k8s.EnvVar(name="NCCL_DEBUG", value="WARN"),
        ]
        if self.indexed:
            env += [
                k8s.EnvVar(
                    name="NODE_RANK",
                    value_from=k8s.EnvVarSource(
                        field_ref=k8s.ObjectFieldSelector(field_path=COMPLETION_INDEX)
                    ),
                ),
                k8s.EnvVar(name="MASTER_ADDR", value=f"{name}-0.{name}"),
            ]
        if efa_interfaces:
            env += [
                k8s.EnvVar(name="FI_PROVIDER", value="efa"),
                k8s.EnvVar(name="FI_EFA_USE_DEVICE_RDMA", value="1"),
            ]
        return env

    @staticmethod
    def _limits(gpus_per_node: int, efa_interfaces: int) -> dict[str, k8s.Quantity]:
        limits = {"nvidia.com/gpu": k8s.Quantity.from_number(gpus_per_node)}
        if efa_interfaces:
            limits["vpc.amazonaws.com/efa"] = k8s.Quantity.from_number(efa_interfaces)
        return limits

    def _check(self, condition: bool, prop: str, value: object, allowed: str) -> None:
        check(condition, self.node.path, prop, value, allowed)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)

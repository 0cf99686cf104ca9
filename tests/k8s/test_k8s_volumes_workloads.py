"""Static Lustre/EFS volumes and workload namespaces/service accounts."""

from __future__ import annotations

import cdk8s
import pytest
from k8s_support import (
    DEFERRED_LUSTRE_DNS,
    DEFERRED_LUSTRE_ID,
    DEFERRED_LUSTRE_MOUNT,
    DEFERRED_ROLE_ARN,
    EFS_SHARED,
    objects_of,
    reference_app,
)

from eks_ai_data.errors import EksAiDataValidationError
from eks_ai_data.k8s import (
    EfsVolumeSpec,
    LustreVolumeSpec,
    NamespaceSpec,
    ServiceAccountSpec,
    StaticVolumesChart,
    WorkloadsChart,
)


@pytest.fixture(scope="module")
def volumes():
    return objects_of(reference_app()["static-volumes"], "PersistentVolume")


@pytest.fixture(scope="module")
def claims():
    chart = reference_app()["static-volumes"]
    return {
        (o["metadata"]["namespace"], o["metadata"]["name"]): o
        for o in chart.to_json()
        if o["kind"] == "PersistentVolumeClaim"
    }


def test_lustre_volume_and_claim_are_bound_to_each_other(volumes, claims):
    pv = volumes["datasets"]["spec"]
    assert pv["csi"] == {
        "driver": "fsx.csi.aws.com",
        "volumeHandle": DEFERRED_LUSTRE_ID,
        "volumeAttributes": {"dnsname": DEFERRED_LUSTRE_DNS, "mountname": DEFERRED_LUSTRE_MOUNT},
    }
    assert pv["mountOptions"] == ["flock"]
    assert pv["persistentVolumeReclaimPolicy"] == "Retain"
    assert pv["capacity"] == {"storage": "4800Gi"}
    assert pv["accessModes"] == ["ReadWriteMany"]
    assert pv["storageClassName"] == ""
    assert pv["claimRef"]["namespace"] == "training" and pv["claimRef"]["name"] == "datasets"
    pvc = claims[("training", "datasets")]["spec"]
    assert pvc["volumeName"] == "datasets"
    assert pvc["storageClassName"] == ""  # never the default class
    assert pvc["resources"]["requests"]["storage"] == "4800Gi"


def test_read_only_lustre_claim_with_its_own_name(volumes, claims):
    assert volumes["model-cache"]["spec"]["accessModes"] == ["ReadOnlyMany"]
    assert volumes["model-cache"]["spec"]["claimRef"]["name"] == "models"
    assert claims[("inference", "models")]["spec"]["volumeName"] == "model-cache"


def test_efs_access_point_volume_mounts_over_tls(volumes, claims):
    pv = volumes["shared-home"]["spec"]
    assert pv["csi"]["driver"] == "efs.csi.aws.com"
    assert pv["csi"]["volumeHandle"] == f"{EFS_SHARED}::fsap-0a1b2c3d4e5f60718"
    assert pv["csi"]["volumeAttributes"] == {"encryptInTransit": "true"}
    assert pv["mountOptions"] == ["iam"]  # the driver adds tls itself (encryptInTransit)
    assert pv["persistentVolumeReclaimPolicy"] == "Retain"
    assert claims[("training", "shared-home")]["spec"]["volumeName"] == "shared-home"


LUSTRE = {
    "name": "data",
    "file_system_id": "fs-0a1b2c3d4e5f60718",
    "dns_name": "fs-0a1b2c3d4e5f60718.fsx.us-west-2.amazonaws.com",
    "mount_name": "abcdefgh",
    "storage_capacity_gib": 1200,
    "namespace": "training",
    "availability_zone": "us-west-2a",
}
EFS = {
    "name": "home",
    "file_system_id": "fs-0a1b2c3d",
    "access_point_id": "fsap-0a1b2c3d",
    "namespace": "training",
}


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            {"lustre_volumes": [LustreVolumeSpec(**{**LUSTRE, "name": "Data_1"})]},
            r"lustre_volumes.name='Data_1': must be a DNS-1123 subdomain",
        ),
        (
            {"lustre_volumes": [LustreVolumeSpec(**{**LUSTRE, "claim_name": "-x"})]},
            r"claim_name='-x': must be a DNS-1123",
        ),
        (
            {"lustre_volumes": [LustreVolumeSpec(**{**LUSTRE, "namespace": "a.b"})]},
            r"namespace='a.b': must be a DNS-1123 label",
        ),
        (
            {"lustre_volumes": [LustreVolumeSpec(**{**LUSTRE, "namespace": "research"})]},
            r"lustre_volumes.namespace='research': must be a namespace the charts create: inference, training",
        ),
        (
            {"efs_volumes": [EfsVolumeSpec(**{**EFS, "namespace": "default"})]},
            r"efs_volumes.namespace='default': must be a namespace the charts create",
        ),
        (
            {"lustre_volumes": [LustreVolumeSpec(**{**LUSTRE, "file_system_id": "fsx-1"})]},
            r"file_system_id='fsx-1': must be fs-<hex>",
        ),
        (
            {"lustre_volumes": [LustreVolumeSpec(**{**LUSTRE, "dns_name": "not a host"})]},
            r"dns_name='not a host': must be a DNS name",
        ),
        (
            {"lustre_volumes": [LustreVolumeSpec(**{**LUSTRE, "mount_name": "/fsx"})]},
            r"mount_name='/fsx': must be the file system's",
        ),
        (
            {"lustre_volumes": [LustreVolumeSpec(**{**LUSTRE, "mount_name": "abcdefghi"})]},
            r"mount_name='abcdefghi': must be the file system's mount name: 1-8 letters",
        ),
        (
            {"lustre_volumes": [LustreVolumeSpec(**{**LUSTRE, "mount_options": "flock"})]},
            r"mount_options='flock': must be a list of mount options",
        ),
        (
            {"lustre_volumes": [LustreVolumeSpec(**{**LUSTRE, "mount_options": ["flock,noatime"]})]},
            r"mount_options=\['flock,noatime'\]: must be a list of mount options .*no spaces or commas",
        ),
        (
            {"lustre_volumes": [LustreVolumeSpec(**{**LUSTRE, "availability_zone": "us-west-2"})]},
            r"lustre_volumes.availability_zone='us-west-2': must be an Availability Zone name",
        ),
        (
            {"lustre_volumes": [LustreVolumeSpec(**{**LUSTRE, "storage_capacity_gib": 0})]},
            r"storage_capacity_gib=0: must be an integer",
        ),
        (
            {"lustre_volumes": [LustreVolumeSpec(**{**LUSTRE, "storage_capacity_gib": 1.5})]},
            r"storage_capacity_gib=1.5: must be an integer",
        ),
        (
            {"efs_volumes": [EfsVolumeSpec(**{**EFS, "access_point_id": "ap-1"})]},
            r"access_point_id='ap-1': must be fsap-<hex>",
        ),
        (
            {"efs_volumes": [EfsVolumeSpec(**{**EFS, "capacity_gib": -5})]},
            r"capacity_gib=-5: must be an integer",
        ),
        (
            {
                "lustre_volumes": [LustreVolumeSpec(**LUSTRE)],
                "efs_volumes": [EfsVolumeSpec(**{**EFS, "name": "data"})],
            },
            r"volume name='data': must be unique",
        ),
        (
            {
                "lustre_volumes": [LustreVolumeSpec(**LUSTRE)],
                "efs_volumes": [EfsVolumeSpec(**{**EFS, "claim_name": "data"})],
            },
            r"claim='training/data': must be unique",
        ),
    ],
)
def test_invalid_static_volume_input(props, message):
    with pytest.raises(EksAiDataValidationError, match=r"^bad: invalid .*" + message):
        StaticVolumesChart(cdk8s.App(), "bad", known_namespaces=["training", "inference"], **props)


def test_claim_namespace_error_names_the_chart_path():
    app = cdk8s.App()
    with pytest.raises(EksAiDataValidationError) as error:
        StaticVolumesChart(app, "volumes", known_namespaces=[], efs_volumes=[EfsVolumeSpec(**EFS)])
    assert (error.value.where, error.value.prop, error.value.value) == (
        "volumes",
        "efs_volumes.namespace",
        "training",
    )
    assert "(none given)" in error.value.allowed


def test_namespaces_and_service_accounts():
    chart = reference_app()["workloads"]
    assert chart.namespace_names == ("training", "inference")
    namespaces = objects_of(chart, "Namespace")
    # restricted by default: non-root, no privilege escalation, capabilities dropped, a seccomp profile
    for name in ("training", "inference"):
        labels = namespaces[name]["metadata"]["labels"]
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted", name
        assert labels["pod-security.kubernetes.io/audit"] == "restricted", name
        assert labels["pod-security.kubernetes.io/warn"] == "restricted", name
    assert namespaces["inference"]["metadata"]["labels"]["team"] == "ml"
    accounts = {
        (o["metadata"]["namespace"], o["metadata"]["name"]): o
        for o in chart.to_json()
        if o["kind"] == "ServiceAccount"
    }
    assert accounts[("training", "trainer")]["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": DEFERRED_ROLE_ARN
    }
    assert accounts[("inference", "model-server")]["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/model-server"
    }
    assert "annotations" not in accounts[("training", "batch")]["metadata"]
    assert all(a["automountServiceAccountToken"] is False for a in accounts.values())
    # each namespace comes before the accounts in it (kubectl applies the manifest in order)
    order = [(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in chart.to_json()]
    for namespace, name in accounts:
        assert order.index(("Namespace", None, namespace)) < order.index(("ServiceAccount", namespace, name))


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"namespaces": ["ML"]}, r"namespaces='ML': must be a DNS-1123 label"),
        ({"namespaces": ["a" * 64]}, r"namespaces='a{64}': must be a DNS-1123 label"),
        ({"namespaces": ["ml", "ml"]}, r"namespaces='ml': must be unique"),
        ({"namespaces": [NamespaceSpec("ml", pod_security="open")]}, r"pod_security='open': must be one of"),
        (
            {"namespaces": ["ml"], "service_accounts": [ServiceAccountSpec("Trainer", "ml")]},
            r"service_accounts.name='Trainer': must be a DNS-1123 subdomain",
        ),
        (
            {"namespaces": ["ml"], "service_accounts": [ServiceAccountSpec("trainer", "other")]},
            r"service_accounts.namespace='other': must be a namespace this chart creates or an existing one: kube-system, ml",
        ),
        (
            {
                "namespaces": ["ml"],
                "service_accounts": [ServiceAccountSpec("t", "ml"), ServiceAccountSpec("t", "ml")],
            },
            r"service_accounts='ml/t': must be unique",
        ),
        (
            {
                "namespaces": ["ml"],
                "service_accounts": [ServiceAccountSpec("t", "ml", role_arn="arn:aws:iam::1:user/x")],
            },
            r"role_arn='arn:aws:iam::1:user/x': must be an IAM role ARN",
        ),
    ],
)
def test_invalid_workload_input(props, message):
    with pytest.raises(EksAiDataValidationError, match=r"^bad: invalid .*" + message):
        WorkloadsChart(cdk8s.App(), "bad", **props)


def test_service_account_in_an_existing_namespace():
    chart = WorkloadsChart(
        cdk8s.App(),
        "ok",
        service_accounts=[ServiceAccountSpec("agent", "kube-system", role_arn=DEFERRED_ROLE_ARN)],
    )
    assert list(chart.service_accounts) == ["kube-system/agent"]
    assert chart.namespace_names == ()


def test_service_account_names_are_subdomains_and_lustre_mount_names_take_what_fsx_gives():
    # Kubernetes accepts dots in ServiceAccount names (DNS-1123 subdomain), as WorkloadIdentity does
    chart = WorkloadsChart(
        cdk8s.App(), "ok", service_accounts=[ServiceAccountSpec("trainer.v2", "kube-system")]
    )
    assert list(chart.service_accounts) == ["kube-system/trainer.v2"]
    # FSx mount names: 8 random characters, or "fsx" on SCRATCH_1; '_' and '-' are in the API's pattern
    for mount_name in ("fsx", "Ab_3-x9z"):
        volumes = StaticVolumesChart(
            cdk8s.App(),
            "ok",
            known_namespaces=["training"],
            lustre_volumes=[
                LustreVolumeSpec(
                    **{**LUSTRE, "mount_name": mount_name, "mount_options": ["flock", "noatime"]}
                )
            ],
        )
        (pv,) = [o for o in volumes.to_json() if o["kind"] == "PersistentVolume"]
        assert pv["spec"]["csi"]["volumeAttributes"]["mountname"] == mount_name
        assert pv["spec"]["mountOptions"] == ["flock", "noatime"]


def test_one_spec_or_a_string_where_a_list_is_expected_is_refused():
    from eks_ai_data.k8s import TeamsChart, TeamSpec

    cases = [
        (
            lambda: WorkloadsChart(cdk8s.App(), "w", namespaces="ml"),
            r"invalid namespaces='ml': must be a list of",
        ),
        (
            lambda: WorkloadsChart(
                cdk8s.App(), "w", service_accounts=ServiceAccountSpec("sa", "kube-system")
            ),
            r"invalid service_accounts=ServiceAccountSpec\(.*\): must be a list of ServiceAccountSpec, not one",
        ),
        (
            lambda: StaticVolumesChart(
                cdk8s.App(), "v", known_namespaces=["training"], lustre_volumes=LustreVolumeSpec(**LUSTRE)
            ),
            r"invalid lustre_volumes=LustreVolumeSpec\(.*\): must be a list of LustreVolumeSpec, not one",
        ),
        (
            lambda: StaticVolumesChart(
                cdk8s.App(), "v", known_namespaces=["training"], efs_volumes=["fs-12345678"]
            ),
            r"invalid efs_volumes='fs-12345678': must be a list of EfsVolumeSpec: this item is not one",
        ),
        (
            lambda: TeamsChart(
                cdk8s.App(), "t", teams=TeamSpec(name="ml", uid=1000, gid=1000), storage_classes=[]
            ),
            r"invalid teams=TeamSpec\(.*\): must be a list of TeamSpec, not one",
        ),
    ]
    for build, message in cases:
        with pytest.raises(EksAiDataValidationError, match=message):
            build()

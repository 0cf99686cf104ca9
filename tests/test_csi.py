"""StorageDrivers: CSI add-ons, their roles (IRSA and Pod Identity), placement values, gates and bad input."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from syrupy.extensions.json import JSONSnapshotExtension

from eks_ai_data.cluster import AiCluster
from eks_ai_data.csi import StorageDrivers, configuration_values
from eks_ai_data.errors import EksAiDataValidationError
from eks_ai_data.labels import ALL_NODE_TAINTS, Taint
from tests._gates import acknowledge_fixture, cfn_lint_errors, normalize_template
from tests.conftest import synthesize

IRSA, POD = "CsiIrsa", "CsiPodIdentity"
TEAM_TOLERATION = {"key": "example.com/team", "operator": "Equal", "value": "ml", "effect": "NoSchedule"}
# What each driver's role must trust: written out, not derived from the module under test.
EXPECTED_ACCOUNTS = {
    "aws-ebs-csi-driver": ["ebs-csi-controller-sa"],
    "aws-efs-csi-driver": ["efs-csi-controller-sa", "efs-csi-node-sa"],
    "aws-fsx-csi-driver": ["fsx-csi-controller-sa"],
    "aws-mountpoint-s3-csi-driver": ["s3-csi-driver-sa"],
}


def _build(app: cdk.App) -> None:
    irsa = cdk.Stack(app, IRSA)
    StorageDrivers(irsa, "Storage", cluster=AiCluster(irsa, "Platform"))

    pod = cdk.Stack(app, POD)
    platform = AiCluster(pod, "Platform")
    bucket = s3.Bucket(
        pod,
        "Datasets",
        encryption_key=platform.keys.data_key,
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        server_access_logs_prefix="access-logs/",
        versioned=True,
    )
    acknowledge_fixture(
        bucket, "the test's own dataset bucket, a single-Region copy", "S3BucketReplicationEnabled"
    )
    StorageDrivers(
        pod,
        "Storage",
        cluster=platform,
        identity="pod-identity",
        mountpoint_s3_buckets=[bucket],
        mountpoint_s3_write=True,
        versions={"aws-ebs-csi-driver": "v1.64.0-eksbuild.1"},
        tolerate_all_taints=False,
        extra_tolerations=[TEAM_TOLERATION],
    )


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    return synthesize(_build, tmp_path_factory.mktemp("csi"))


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


def _resources(synth, stack: str) -> dict[str, dict]:
    return synth.template(stack)["Resources"]


def _addons(synth, stack: str) -> dict[str, dict]:
    return {
        r["Properties"]["AddonName"]: r
        for k, r in _resources(synth, stack).items()
        if r["Type"] == "AWS::EKS::Addon" and k.startswith("Storage")
    }


def _role_of(synth, stack: str, addon: dict) -> tuple[str, dict]:
    """The add-on's role: IRSA's ServiceAccountRoleArn, the add-on's first Pod Identity association, or (an add-on
    that declares no account, Mountpoint) the standalone association of its service account."""
    props = addon["Properties"]
    if "ServiceAccountRoleArn" in props:
        arn = props["ServiceAccountRoleArn"]
    elif props.get("PodIdentityAssociations"):
        arn = props["PodIdentityAssociations"][0]["RoleArn"]
    else:
        (account,) = EXPECTED_ACCOUNTS[props["AddonName"]]
        (arn,) = [
            r["Properties"]["RoleArn"]
            for r in _resources(synth, stack).values()
            if r["Type"] == "AWS::EKS::PodIdentityAssociation"
            and r["Properties"]["ServiceAccount"] == account
        ]
    logical_id = arn["Fn::GetAtt"][0]
    return logical_id, _resources(synth, stack)[logical_id]


def _statements(synth, stack: str, role_id: str) -> list[dict]:
    return [
        s
        for r in _resources(synth, stack).values()
        if r["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in r["Properties"]["Roles"]
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    ]


def _cfn_json(synth, stack: str, logical_id: str) -> dict[str, Any]:
    """A CfnJson value with the (deploy-time) OIDC issuer replaced by ``<issuer>``."""
    parts = _resources(synth, stack)[logical_id]["Properties"]["Value"]["Fn::Join"][1]
    return json.loads("".join(p if isinstance(p, str) else "<issuer>" for p in parts))


def _tolerates(tolerations: list[dict], taint: Taint) -> bool:
    """Kubernetes toleration matching (key, operator Exists/Equal, value, effect)."""
    for t in tolerations:
        if t.get("effect") not in (None, "", taint.effect):
            continue
        if t.get("operator") == "Exists":
            if not t.get("key") or t["key"] == taint.key:
                return True
        elif t.get("key") == taint.key and t.get("value") == taint.value:
            return True
    return False


def _node_tolerates(node: dict, taint: Taint) -> bool:
    return node.get("tolerateAllTaints") is True or _tolerates(node.get("tolerations", []), taint)


# -- add-ons -------------------------------------------------------------------------------------------


def test_addon_names(synth):
    assert sorted(_addons(synth, IRSA)) == [
        "aws-ebs-csi-driver",
        "aws-efs-csi-driver",
        "aws-fsx-csi-driver",
        "snapshot-controller",
    ]
    assert sorted(_addons(synth, POD)) == sorted([*_addons(synth, IRSA), "aws-mountpoint-s3-csi-driver"])


def test_addons_wait_for_the_system_nodes_and_are_not_looked_up(synth):
    for stack in (IRSA, POD):
        for name, addon in _addons(synth, stack).items():
            assert any(d.startswith("PlatformSystemNodes") for d in addon["DependsOn"]), name
            assert addon["Properties"]["PreserveOnDelete"] is False
    resources = synth.template(POD)["Resources"]
    (agent,) = [
        k
        for k, r in resources.items()
        if r["Type"] == "AWS::EKS::Addon" and r["Properties"]["AddonName"] == "eks-pod-identity-agent"
    ]
    for name, addon in _addons(synth, POD).items():
        if name != "snapshot-controller":
            assert agent in addon["DependsOn"], name
    assert "AddonVersion" not in _addons(synth, IRSA)["aws-ebs-csi-driver"]["Properties"]
    assert _addons(synth, POD)["aws-ebs-csi-driver"]["Properties"]["AddonVersion"] == "v1.64.0-eksbuild.1"


# -- trust ---------------------------------------------------------------------------------------------


def test_irsa_trust_of_every_driver_role(synth):
    addons = _addons(synth, IRSA)
    assert "ServiceAccountRoleArn" not in addons["snapshot-controller"]["Properties"]
    for name, accounts in EXPECTED_ACCOUNTS.items():
        if name not in addons:
            continue
        _, role = _role_of(synth, IRSA, addons[name])
        (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert statement["Principal"]["Federated"]["Ref"].startswith("PlatformClusterOidcProvider")
        assert set(statement["Condition"]) == {"StringEquals"}
        conditions = _cfn_json(synth, IRSA, statement["Condition"]["StringEquals"]["Fn::GetAtt"][0])
        subs = [f"system:serviceaccount:kube-system:{sa}" for sa in accounts]
        assert conditions == {
            "<issuer>:sub": subs[0] if len(subs) == 1 else subs,
            "<issuer>:aud": "sts.amazonaws.com",
        }, name
    assert len(addons) - 1 == len([n for n in EXPECTED_ACCOUNTS if n in addons])


# Pod Identity: which service accounts each add-on's own PodIdentityAssociations may name (EKS refuses any other:
# aws-efs-csi-driver issue 1759), written out; the others get standalone associations.
ADDON_DECLARED = {
    "aws-ebs-csi-driver": ["ebs-csi-controller-sa"],
    "aws-efs-csi-driver": ["efs-csi-controller-sa"],
    "aws-fsx-csi-driver": ["fsx-csi-controller-sa"],
    "aws-mountpoint-s3-csi-driver": [],
}
STANDALONE = {"efs-csi-node-sa", "s3-csi-driver-sa"}


def _pod_identity_trust(role: dict, account: str) -> None:
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert sorted(statement["Action"]) == ["sts:AssumeRole", "sts:TagSession"]
    equals = statement["Condition"]["StringEquals"]
    assert set(statement["Condition"]) == {"StringEquals"}
    assert equals["aws:RequestTag/eks-cluster-arn"]["Fn::GetAtt"][0].startswith("PlatformCluster")
    assert equals["aws:RequestTag/kubernetes-namespace"] == "kube-system"
    assert equals["aws:RequestTag/kubernetes-service-account"] == account


def test_pod_identity_associations_name_only_what_each_addon_declares(synth):
    addons = _addons(synth, POD)
    resources = _resources(synth, POD)
    assert "PodIdentityAssociations" not in addons["snapshot-controller"]["Properties"]
    for name, declared in ADDON_DECLARED.items():
        props = addons[name]["Properties"]
        assert "ServiceAccountRoleArn" not in props
        associations = props.get("PodIdentityAssociations", [])
        assert [a["ServiceAccount"] for a in associations] == declared, name
        for association in associations:
            _pod_identity_trust(
                resources[association["RoleArn"]["Fn::GetAtt"][0]], association["ServiceAccount"]
            )
    standalone = {
        r["Properties"]["ServiceAccount"]: r
        for r in resources.values()
        if r["Type"] == "AWS::EKS::PodIdentityAssociation"
    }
    assert set(standalone) == STANDALONE  # never an account the add-on also associates
    for account, association in standalone.items():
        props = association["Properties"]
        assert props["Namespace"] == "kube-system"
        _pod_identity_trust(resources[props["RoleArn"]["Fn::GetAtt"][0]], account)
        # the add-on creates the service account; the association follows it
        assert any(d.startswith("StorageAddon") for d in association["DependsOn"])


def test_efs_node_plugin_has_its_own_mount_only_role_under_pod_identity(synth):
    resources = _resources(synth, POD)
    (node,) = [
        r
        for r in resources.values()
        if r["Type"] == "AWS::EKS::PodIdentityAssociation"
        and r["Properties"]["ServiceAccount"] == "efs-csi-node-sa"
    ]
    node_role_id = node["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    controller_role_id, _ = _role_of(synth, POD, _addons(synth, POD)["aws-efs-csi-driver"])
    assert node_role_id != controller_role_id
    assert "ManagedPolicyArns" not in resources[node_role_id]["Properties"]  # no access-point management
    assert "ManagedPolicyArns" in resources[controller_role_id]["Properties"]


def test_fsx_addon_waits_for_the_pod_identity_agent_in_both_modes(synth):
    for stack in (IRSA, POD):
        addon = _addons(synth, stack)["aws-fsx-csi-driver"]
        agents = [
            k
            for k, r in _resources(synth, stack).items()
            if r["Type"] == "AWS::EKS::Addon" and r["Properties"]["AddonName"] == "eks-pod-identity-agent"
        ]
        assert set(agents) & set(addon["DependsOn"]), stack


def test_no_role_trust_uses_string_like(synth):
    for stack in (IRSA, POD):
        for logical_id, resource in _resources(synth, stack).items():
            if resource["Type"] == "AWS::IAM::Role":
                assert "StringLike" not in json.dumps(resource["Properties"]["AssumeRolePolicyDocument"]), (
                    logical_id
                )


# -- permissions ---------------------------------------------------------------------------------------


def _managed(role: dict) -> list[str]:
    return [
        arn["Fn::Join"][1][-1].split(":iam::aws:policy/")[1]
        for arn in role["Properties"].get("ManagedPolicyArns", [])
    ]


def test_managed_policies(synth):
    addons = _addons(synth, POD)
    expected = {
        "aws-ebs-csi-driver": ["AmazonEBSCSIDriverPolicyV2"],
        "aws-efs-csi-driver": ["service-role/AmazonEFSCSIDriverPolicy"],
        "aws-fsx-csi-driver": [],
        "aws-mountpoint-s3-csi-driver": [],
    }
    assert {name: _managed(_role_of(synth, POD, addons[name])[1]) for name in expected} == expected


def _kms(statements: list[dict]) -> list[dict]:
    return [s for s in statements if any(a.startswith("kms:") for a in _list(s["Action"]))]


def _list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize(
    ("name", "service"), [("aws-ebs-csi-driver", "ec2."), ("aws-fsx-csi-driver", "fsx.")]
)
def test_volume_drivers_use_the_data_key_through_their_service_only(synth, name, service):
    role_id, _ = _role_of(synth, IRSA, _addons(synth, IRSA)[name])
    kms = _kms(_statements(synth, IRSA, role_id))
    assert kms
    for statement in kms:
        assert statement["Resource"]["Fn::GetAtt"][0].startswith("PlatformKeysDataKey")
        assert statement["Condition"]["StringEquals"]["kms:ViaService"]["Fn::Join"][1][0] == service
    grants = [s for s in kms if s["Action"] == "kms:CreateGrant"]
    assert [g["Condition"]["Bool"] for g in grants] == [{"kms:GrantIsForAWSResource": "true"}]
    actions = sorted(a for s in kms for a in _list(s["Action"]))
    assert "kms:Decrypt" in actions and "kms:GenerateDataKeyWithoutPlaintext" in actions
    assert not [a for a in actions if "*" in a]


def test_efs_role_has_no_kms_permissions(synth):
    role_id, _ = _role_of(synth, IRSA, _addons(synth, IRSA)["aws-efs-csi-driver"])
    assert _kms(_statements(synth, IRSA, role_id)) == []


def test_fsx_driver_can_only_change_the_file_systems_it_created(synth):
    role_id, _ = _role_of(synth, IRSA, _addons(synth, IRSA)["aws-fsx-csi-driver"])
    statements = _statements(synth, IRSA, role_id)
    allows = {a: s for s in statements if s["Effect"] == "Allow" for a in _list(s["Action"])}
    (deny,) = [s for s in statements if s["Effect"] == "Deny"]
    cluster_name = {
        "Ref": next(
            k
            for k in _resources(synth, IRSA)
            if k.startswith("PlatformCluster") and _resources(synth, IRSA)[k]["Type"] == "AWS::EKS::Cluster"
        )
    }
    for action in ("fsx:DeleteFileSystem", "fsx:UpdateFileSystem"):
        assert allows[action]["Condition"] == {
            "StringEquals": {"aws:ResourceTag/eks-ai-data:csi-cluster": cluster_name}
        }
    for action in ("fsx:CreateFileSystem", "fsx:TagResource"):
        assert allows[action]["Condition"] == {
            "StringEquals": {"aws:RequestTag/eks-ai-data:csi-cluster": cluster_name},
            "Null": {"aws:RequestTag/CSIVolumeName": "false"},
            "ForAllValues:StringEquals": {"aws:TagKeys": ["CSIVolumeName", "eks-ai-data:csi-cluster"]},
        }
    # FSx has no key that limits TagResource to creation: the platform's own file systems are denied every change
    assert sorted(_list(deny["Action"])) == [
        "fsx:DeleteFileSystem",
        "fsx:TagResource",
        "fsx:UntagResource",
        "fsx:UpdateFileSystem",
    ]
    assert deny["Condition"] == {"Null": {"aws:ResourceTag/eks-ai-data:protected": "false"}}
    assert allows["fsx:DescribeFileSystems"]["Resource"] == "*"
    assert not [a for a in allows if a.startswith("fsx:") and a.endswith("*")]


def test_mountpoint_grants_name_the_bucket_and_its_key(synth):
    role_id, _ = _role_of(synth, POD, _addons(synth, POD)["aws-mountpoint-s3-csi-driver"])
    statements = _statements(synth, POD, role_id)
    by_action = {a: s for s in statements for a in _list(s["Action"])}
    assert by_action["s3:ListBucket"]["Resource"]["Fn::GetAtt"][0].startswith("Datasets")
    objects = by_action["s3:GetObject"]
    assert sorted(_list(objects["Action"])) == [
        "s3:AbortMultipartUpload",
        "s3:DeleteObject",
        "s3:GetObject",
        "s3:PutObject",
    ]
    assert objects["Resource"]["Fn::Join"][1][1] == "/*"
    (kms,) = _kms(statements)
    assert sorted(_list(kms["Action"])) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert kms["Resource"]["Fn::GetAtt"][0].startswith("PlatformKeysDataKey")
    assert kms["Condition"]["StringEquals"]["kms:ViaService"]["Fn::Join"][1][0] == "s3."


# -- placement -----------------------------------------------------------------------------------------


def _values(synth, stack: str) -> dict[str, dict]:
    return {n: json.loads(a["Properties"]["ConfigurationValues"]) for n, a in _addons(synth, stack).items()}


def test_controllers_run_on_the_system_nodes(synth):
    system = {"eks-ai-data/node-role": "system"}
    for stack in (IRSA, POD):
        values = _values(synth, stack)
        for name in ("aws-ebs-csi-driver", "aws-efs-csi-driver", "aws-fsx-csi-driver"):
            assert values[name]["controller"] == {"nodeSelector": system}, (stack, name)
        assert values["snapshot-controller"] == {"nodeSelector": system}


def test_node_plugins_tolerate_every_taint_by_default(synth):
    anything = Taint("example.com/anything", "x", "NoExecute")
    for name, values in _values(synth, IRSA).items():
        if name == "snapshot-controller":
            continue
        for taint in (*ALL_NODE_TAINTS, anything):
            assert _node_tolerates(values["node"], taint), (name, taint)


def test_node_plugins_tolerate_the_platform_taints_and_the_extra_ones_when_narrowed(synth):
    team = Taint("example.com/team", "ml", "NoSchedule")
    other = Taint("example.com/other", "x", "NoSchedule")
    for name, values in _values(synth, POD).items():
        if name == "snapshot-controller":
            continue
        node = values["node"]
        assert node.get("tolerateAllTaints", False) is False, name
        for taint in (*ALL_NODE_TAINTS, team):
            assert _node_tolerates(node, taint), (name, taint)
        assert not _node_tolerates(node, other), name


def test_configuration_values_keys_fit_each_addon_schema():
    """EFS's chart has no tolerateAllTaints; Mountpoint's controller accepts no placement values."""
    assert configuration_values("aws-efs-csi-driver")["node"] == {"tolerations": [{"operator": "Exists"}]}
    assert configuration_values("aws-mountpoint-s3-csi-driver") == {"node": {"tolerateAllTaints": True}}
    assert set(configuration_values("snapshot-controller")) == {"nodeSelector"}


# -- gates ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", [IRSA, POD])
def test_cfn_lint_reports_no_errors(synth, stack):
    assert cfn_lint_errors(synth.template(stack)) == []


def test_cdk_nag_has_no_unacknowledged_finding(synth):
    assert synth.nag_findings == []


@pytest.mark.parametrize("stack", [IRSA, POD])
def test_storage_resources_match_snapshot(synth, stack, snapshot_json):
    template = normalize_template(synth.template(stack))
    assert {k: v for k, v in template["Resources"].items() if k.startswith("Storage")} == snapshot_json


# -- bad input -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def platform() -> AiCluster:
    return AiCluster(cdk.Stack(cdk.App(), "Bad"), "Platform")


_bad = iter(range(1000))


def _drivers(platform: AiCluster, **props: Any) -> StorageDrivers:
    return StorageDrivers(platform, f"S{next(_bad)}", cluster=platform, **props)


def _bucket(platform: AiCluster, name: str) -> s3.IBucket:
    return s3.Bucket.from_bucket_name(platform, f"B{next(_bad)}", name)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            {"identity": "oidc"},
            r"identity='oidc': must be IdentityMode.IRSA or IdentityMode.POD_IDENTITY \(or 'irsa', 'pod-identity'\)",
        ),
        (
            {"versions": {"metrics-server": "v0.7.2-eksbuild.1"}},
            r"versions='metrics-server': keys must be enabled add-ons: \['aws-ebs-csi-driver', ",
        ),
        (
            {"efs": False, "versions": {"aws-efs-csi-driver": "v2.1.0-eksbuild.1"}},
            r"versions='aws-efs-csi-driver': keys must be enabled add-ons",
        ),
        (
            {"versions": {"aws-ebs-csi-driver": "latest"}},
            r"versions=\{'aws-ebs-csi-driver': 'latest'\}: values must be EKS add-on versions like",
        ),
        (
            {"ebs": False, "efs": False, "fsx_lustre": False, "snapshot_controller": False},
            r"ebs=False: enable at least one driver \(or mountpoint_s3, or give mountpoint_s3_buckets\)",
        ),
        ({"mountpoint_s3_write": True}, r"mountpoint_s3_write=True: needs mountpoint_s3_buckets"),
        ({"mountpoint_s3_buckets": ["my-bucket"]}, r"mountpoint_s3_buckets='my-bucket': must be s3.IBucket"),
        (
            {"extra_tolerations": [TEAM_TOLERATION]},
            r"extra_tolerations=.*: has no effect with tolerate_all_taints=True",
        ),
        *(
            ({"tolerate_all_taints": False, "extra_tolerations": [toleration]}, message)
            for toleration, message in [
                (
                    {"key": "a", "operator": "In"},
                    r"\{'key': 'a', 'operator': 'In'\}: operator must be Equal or Exists",
                ),
                ({"operator": "Exists", "value": "x"}, r"value must be empty with operator Exists"),
                ({"key": "a", "effect": "Never"}, r"effect must be empty \(any\) or one of \['NoSchedule', "),
                ({"value": "x"}, r"\{'value': 'x'\}: operator must be Exists when key is empty"),
                ({"key": "a", "tolrationSeconds": 5}, r"has unknown fields \['tolrationSeconds'\]"),
                (
                    {"key": "Example.COM/team", "operator": "Exists"},
                    r"a toleration key's prefix must be a DNS-1123",
                ),
                (
                    {"key": "example.com/" + "t" * 64, "operator": "Exists"},
                    r"a toleration key's name must be 1-63",
                ),
                ({"key": "team/", "operator": "Exists"}, r"a toleration key's name must be 1-63"),
                ({"key": "-team", "operator": "Exists"}, r"a toleration key's name must be 1-63"),
                (
                    {"key": "team", "value": "m l"},
                    r"toleration values must be at most 63 characters of letters",
                ),
                (
                    {"key": "team", "operator": "Exists", "effect": "NoSchedule", "tolerationSeconds": 60},
                    r"tolerationSeconds needs effect NoExecute",
                ),
                (
                    {"key": "team", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": -1},
                    r"tolerationSeconds must be a whole number of seconds, 0 or more",
                ),
                (
                    {"key": "team", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 1.5},
                    r"tolerationSeconds must be a whole number of seconds",
                ),
                (
                    {"key": "team", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": True},
                    r"tolerationSeconds must be a whole number of seconds",
                ),
                ("team", r"extra_tolerations='team': must be a mapping of key/operator/value/effect"),
            ]
        ),
    ],
)
def test_bad_input(platform, props, message):
    with pytest.raises(EksAiDataValidationError, match=message):
        _drivers(platform, **props)


def test_the_same_bucket_twice_is_refused(platform):
    bucket = _bucket(platform, "datasets")
    with pytest.raises(
        EksAiDataValidationError, match=r"mountpoint_s3_buckets=.*: lists the same bucket twice"
    ):
        _drivers(platform, mountpoint_s3_buckets=[bucket, _bucket(platform, "datasets")])


def test_kubernetes_accepts_these_tolerations():
    """The edges Kubernetes' ValidateTolerations accepts: reach the node plugins' configuration as given."""
    accepted = [
        {"operator": "Exists"},  # no key: every taint
        {"key": "example.com/" + "t" * 63, "operator": "Exists", "effect": ""},  # the 63-character name limit
        {"key": "team", "value": ""},  # Equal (the default) with an empty value
        {"key": "team", "operator": "Equal", "value": "v" * 63, "effect": "PreferNoSchedule"},
        {
            "key": "node.kubernetes.io/unreachable",
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": 0,
        },
    ]
    platform = AiCluster(cdk.Stack(cdk.App(), "Edges"), "Platform")
    drivers = _drivers(
        platform,
        ebs=True,
        efs=False,
        fsx_lustre=False,
        snapshot_controller=False,
        tolerate_all_taints=False,
        extra_tolerations=accepted,
    )
    values = json.loads(
        cdk.Stack.of(platform).resolve(
            drivers.addons["aws-ebs-csi-driver"].node.default_child.configuration_values
        )
    )
    assert values["node"]["tolerations"][-len(accepted) :] == accepted


def test_a_driver_service_account_with_a_role_elsewhere_is_refused():
    from eks_ai_data.identity import WorkloadIdentity

    platform = AiCluster(cdk.Stack(cdk.App(), "Twice"), "Platform")
    WorkloadIdentity(
        platform,
        "Ebs",
        cluster=platform.cluster,
        namespace="kube-system",
        service_account="ebs-csi-controller-sa",
    )
    with pytest.raises(
        EksAiDataValidationError,
        match=r"Twice/Platform/Drivers: invalid ebs='kube-system/ebs-csi-controller-sa': already has a role from "
        r"Twice/Platform/Ebs on cluster Twice/Platform/Cluster",
    ):
        StorageDrivers(platform, "Drivers", cluster=platform, efs=False, fsx_lustre=False)
    with pytest.raises(
        EksAiDataValidationError,
        match=r"Twice/Platform/Cni: invalid service_account='kube-system/aws-node': already has a role from "
        r"Twice/Platform on cluster Twice/Platform/Cluster",
    ):
        WorkloadIdentity(
            platform, "Cni", cluster=platform.cluster, namespace="kube-system", service_account="aws-node"
        )

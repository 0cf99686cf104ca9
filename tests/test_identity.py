"""WorkloadIdentity: exact trust (IRSA and Pod Identity), grants naming their resources, and bad input."""

from __future__ import annotations

import json
import re

import aws_cdk as cdk
import pytest
from aws_cdk import aws_efs as efs
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.lambda_layer_kubectl_v36 import KubectlV36Layer
from syrupy.extensions.json import JSONSnapshotExtension

from eks_ai_data._nag import nag_flatten
from eks_ai_data.errors import EksAiDataValidationError
from eks_ai_data.identity import IdentityMode, WorkloadIdentity
from eks_ai_data.keys import DataKeys
from tests._gates import cfn_lint_errors, nag_synth, normalize_template

STACK = "IdentityTest"
ENV = cdk.Environment(account="111111111111", region="eu-west-1")
CONTEXT = {"@aws-cdk/aws-eks:useNativeOidcProvider": True}
OWN = ("Trainer", "Server", "AWSCDKCfnUtilsProvider")  # logical-id prefixes of what WorkloadIdentity creates


def _cluster(stack: cdk.Stack) -> eks.Cluster:
    return eks.Cluster(
        stack,
        "Cluster",
        version=eks.KubernetesVersion.V1_36,
        default_capacity_type=eks.DefaultCapacityType.NODEGROUP,
        default_capacity=0,
        kubectl_provider_options=eks.KubectlProviderOptions(kubectl_layer=KubectlV36Layer(stack, "Kubectl")),
    )


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    app = cdk.App(outdir=str(tmp_path_factory.mktemp("identity")), context=CONTEXT)
    stack = cdk.Stack(app, STACK, env=ENV)
    keys = DataKeys(stack, "Keys")
    cluster = _cluster(stack)
    data = s3.Bucket(stack, "Data", encryption_key=keys.data_key, enforce_ssl=True)
    plain = s3.Bucket.from_bucket_name(stack, "Plain", "public-datasets-example")
    fs = efs.FileSystem(stack, "Shared", vpc=cluster.vpc, encrypted=True, kms_key=keys.data_key)
    ap = fs.add_access_point("Models", path="/models")

    trainer = WorkloadIdentity(
        stack, "Trainer", cluster=cluster, namespace="training", service_account="trainer"
    )
    trainer.read_prefix(data, "datasets/imagenet")
    trainer.read_prefix(plain, "coco/")
    trainer.write_prefix(data, "checkpoints/run-1/")
    trainer.efs_client(fs, ap, write=False)
    server = WorkloadIdentity(
        stack,
        "Server",
        cluster=cluster,
        namespace="inference",
        service_account="server",
        mode=IdentityMode.POD_IDENTITY,
    )
    server.read_prefix(data, "models")
    server.write_prefix(data, "cache", read=False, delete=True)
    server.efs_client(fs.file_system_arn, ap)
    result = nag_synth(app)
    findings, template = result.findings, result.template(STACK)
    return {
        "template": template,
        "findings": findings,
        "trainer": trainer,
        "server": server,
        "ids": {
            "data": stack.get_logical_id(data.node.default_child),
            "key": stack.get_logical_id(keys.data_key.node.default_child),
            "fs": stack.get_logical_id(fs.node.default_child),
        },
    }


def _res(synth, prefix: str, type_: str) -> dict:
    found = {
        k: v for k, v in synth["template"]["Resources"].items() if k.startswith(prefix) and v["Type"] == type_
    }
    assert len(found) == 1, sorted(found)
    return next(iter(found.values()))


def _statements(synth, prefix: str) -> list[dict]:
    return _res(synth, prefix, "AWS::IAM::Policy")["Properties"]["PolicyDocument"]["Statement"]


def _one(statements: list[dict], action: str) -> list[dict]:
    return [
        s for s in statements if action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    ]


# -- trust ------------------------------------------------------------------------------------------------
def test_irsa_trust_is_string_equals_on_sub_and_aud(synth):
    role = _res(synth, "TrainerRole", "AWS::IAM::Role")
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    provider_id = statement["Principal"]["Federated"]["Ref"]
    assert synth["template"]["Resources"][provider_id]["Type"] == "AWS::IAM::OIDCProvider"  # native provider
    assert list(statement["Condition"]) == ["StringEquals"]
    json_id = statement["Condition"]["StringEquals"]["Fn::GetAtt"][0]
    value = synth["template"]["Resources"][json_id]["Properties"]["Value"]["Fn::Join"][1]
    rendered = "".join(part if isinstance(part, str) else "<issuer>" for part in value)
    issuer = value[1]
    assert issuer == {"Fn::Select": [1, {"Fn::Split": [":oidc-provider/", {"Ref": provider_id}]}]}
    assert json.loads(rendered) == {
        "<issuer>:sub": "system:serviceaccount:training:trainer",
        "<issuer>:aud": "sts.amazonaws.com",
    }
    assert "StringLike" not in json.dumps(role["Properties"]["AssumeRolePolicyDocument"])


def test_pod_identity_trust_names_cluster_namespace_and_service_account(synth):
    role = _res(synth, "ServerRole", "AWS::IAM::Role")
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert sorted(statement["Action"]) == ["sts:AssumeRole", "sts:TagSession"]
    assert statement["Condition"] == {
        "StringEquals": {
            "aws:RequestTag/eks-cluster-arn": {"Fn::GetAtt": [_cluster_id(synth), "Arn"]},
            "aws:RequestTag/kubernetes-namespace": "inference",
            "aws:RequestTag/kubernetes-service-account": "server",
        }
    }
    association = _res(synth, "ServerAssociation", "AWS::EKS::PodIdentityAssociation")["Properties"]
    assert association["Namespace"] == "inference"
    assert association["ServiceAccount"] == "server"
    assert association["RoleArn"] == {"Fn::GetAtt": [association["RoleArn"]["Fn::GetAtt"][0], "Arn"]}
    addons = [r for r in synth["template"]["Resources"].values() if r["Type"] == "AWS::EKS::Addon"]
    assert [a["Properties"]["AddonName"] for a in addons] == ["eks-pod-identity-agent"]


def _cluster_id(synth) -> str:
    (cid,) = [k for k, v in synth["template"]["Resources"].items() if v["Type"] == "AWS::EKS::Cluster"]
    return cid


def test_chart_facing_attributes(synth):
    trainer, server = synth["trainer"], synth["server"]
    assert (trainer.namespace, trainer.service_account_name) == ("training", "trainer")
    assert list(trainer.service_account_annotations) == ["eks.amazonaws.com/role-arn"]
    assert trainer.irsa_role_arn == trainer.role_arn == trainer.role.role_arn
    assert server.service_account_annotations == {}
    assert server.irsa_role_arn is None
    manifest = trainer.service_account_manifest(labels={"team": "ml"})
    assert manifest["kind"] == "ServiceAccount"
    assert manifest["metadata"]["namespace"] == "training"
    assert manifest["metadata"]["labels"] == {"team": "ml"}
    assert "annotations" not in server.service_account_manifest()["metadata"]
    assert trainer.grant_principal is trainer.role


# -- grants ---------------------------------------------------------------------------------------------
def test_no_statement_has_a_star_resource(synth):
    for prefix in ("Trainer", "Server"):
        for statement in _statements(synth, prefix):
            resources = (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            )
            assert "*" not in resources, statement
            assert all(
                "*" not in a
                for a in (
                    [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
                )
            )


def test_read_prefix_lists_and_gets_only_that_prefix(synth):
    data = synth["ids"]["data"]
    statements = _statements(synth, "Trainer")
    lists = _one(statements, "s3:ListBucket")
    prefixes = [s["Condition"]["StringLike"]["s3:prefix"] for s in lists]
    assert ["datasets/imagenet", "datasets/imagenet/*"] in prefixes
    assert ["coco", "coco/*"] in prefixes
    gets = [nag_flatten(s["Resource"]) for s in _one(statements, "s3:GetObject")]
    assert f"<{data}.Arn>/datasets/imagenet/*" in gets
    assert any(g.endswith(":s3:::public-datasets-example/coco/*") for g in gets)


def test_kms_grants_name_the_key_and_are_scoped_to_s3_and_the_bucket(synth):
    key, data = synth["ids"]["key"], synth["ids"]["data"]
    kms_statements = [
        s for s in _statements(synth, "Trainer") if str(s["Action"]).startswith(("kms:", "['kms:"))
    ]
    # one per KMS-encrypted grant: imagenet read, checkpoint write; the SSE-S3 bucket gets none
    assert len(kms_statements) == 2
    read, write = kms_statements
    assert read["Action"] == "kms:Decrypt"
    assert sorted(write["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    for statement, path in ((read, "datasets/imagenet"), (write, "checkpoints/run-1")):
        assert statement["Resource"] == {"Fn::GetAtt": [key, "Arn"]}
        assert statement["Condition"]["StringEquals"] == {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}
        context = [
            nag_flatten(v) for v in statement["Condition"]["StringLike"]["kms:EncryptionContext:aws:s3:arn"]
        ]
        assert context == [f"<{data}.Arn>", f"<{data}.Arn>/{path}/*"]


def test_write_prefix_actions(synth):
    data = synth["ids"]["data"]
    trainer = [s for s in _one(_statements(synth, "Trainer"), "s3:PutObject")]
    assert len(trainer) == 1
    assert trainer[0]["Action"] == [
        "s3:PutObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
        "s3:GetObject",
    ]
    assert nag_flatten(trainer[0]["Resource"]) == f"<{data}.Arn>/checkpoints/run-1/*"
    server = _one(_statements(synth, "Server"), "s3:PutObject")
    assert server[0]["Action"] == [
        "s3:PutObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
        "s3:DeleteObject",
    ]
    # read=False: no listing of the cache prefix
    lists = [
        s["Condition"]["StringLike"]["s3:prefix"] for s in _one(_statements(synth, "Server"), "s3:ListBucket")
    ]
    assert lists == [["models", "models/*"]]


def test_efs_client_is_scoped_to_file_system_and_access_point(synth):
    fs = synth["ids"]["fs"]
    (read_only,) = _one(_statements(synth, "Trainer"), "elasticfilesystem:ClientMount")
    assert read_only["Action"] == "elasticfilesystem:ClientMount"
    assert read_only["Resource"] == {"Fn::GetAtt": [fs, "Arn"]}
    access_point = read_only["Condition"]["StringEquals"]["elasticfilesystem:AccessPointArn"]
    assert re.fullmatch(
        r"arn:<AWS::Partition>:elasticfilesystem:eu-west-1:111111111111:access-point/<SharedModels[0-9A-F]{8}>",
        nag_flatten(access_point),
    )
    assert read_only["Condition"]["Bool"] == {"elasticfilesystem:AccessedViaMountTarget": "true"}
    (read_write,) = _one(_statements(synth, "Server"), "elasticfilesystem:ClientMount")
    assert read_write["Action"] == ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"]


# -- gates ------------------------------------------------------------------------------------------------
def test_cdk_nag_has_no_unacknowledged_finding_on_workload_identities(synth):
    ours = [
        str(f)
        for f in synth["findings"]
        if f.path.startswith((f"{STACK}/Trainer", f"{STACK}/Server", f"{STACK}/AWSCDKCfnUtils"))
    ]
    assert ours == []


def test_cfn_lint_reports_no_errors(synth):
    assert cfn_lint_errors(synth["template"], regions=["eu-west-1"]) == []


def test_snapshot(synth, snapshot):
    template = normalize_template(synth["template"])
    own = {k: v for k, v in template["Resources"].items() if k.startswith(OWN)}
    assert own == snapshot.use_extension(JSONSnapshotExtension)


# -- bad input --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def scratch():
    """An unsynthesized stack with a cluster to hang bad identities on (constructing is cheap)."""
    app = cdk.App(context=CONTEXT)
    stack = cdk.Stack(app, "Scratch", env=ENV)
    cluster = _cluster(stack)
    bucket = s3.Bucket(stack, "Bucket")
    fs = efs.FileSystem(stack, "Fs", vpc=cluster.vpc)
    other = efs.FileSystem(stack, "Other", vpc=cluster.vpc)
    return {
        "stack": stack,
        "cluster": cluster,
        "bucket": bucket,
        "fs": fs,
        "other_ap": other.add_access_point("Ap"),
    }


_counter = iter(range(10_000))


def _identity(scratch, **kwargs) -> WorkloadIdentity:
    n = next(_counter)  # a service account of its own: a second role for one is refused
    props = {"cluster": scratch["cluster"], "namespace": "ns", "service_account": f"sa-{n}", **kwargs}
    return WorkloadIdentity(scratch["stack"], f"Id{n}", **props)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"namespace": "Training"}, "invalid namespace='Training': must be a DNS-1123 label"),
        ({"namespace": "a" * 64}, "invalid namespace=.*DNS-1123 label"),
        (
            {"service_account": "trainer_sa"},
            "invalid service_account='trainer_sa': must be a DNS-1123 subdomain",
        ),
        (
            {"service_account": "trainer\n"},
            r"invalid service_account='trainer\\n': must be a DNS-1123 subdomain",
        ),
        ({"namespace": "ns\n"}, r"invalid namespace='ns\\n': must be a DNS-1123 label"),
        ({"description": "d" * 1001}, "invalid description='d+': must be at most 1000 characters"),
        ({"description": "emoji \U0001f680"}, "invalid description=.*printable ASCII, Latin-1"),
        ({"role_name": "r\u00f4le"}, r"invalid role_name='r\u00f4le': must be 1-64 letters"),
        ({"service_account": "-sa"}, "invalid service_account='-sa'"),
        ({"role_name": "bad name!"}, "invalid role_name='bad name!': must be 1-64 letters"),
        ({"role_name": "r" * 65}, "invalid role_name=.*1-64"),
        ({"mode": "IRSA"}, "invalid mode='IRSA': must be IdentityMode.IRSA or IdentityMode.POD_IDENTITY"),
    ],
)
def test_bad_props(scratch, props, message):
    with pytest.raises(EksAiDataValidationError, match=message) as raised:
        _identity(scratch, **props)
    assert raised.value.where.startswith("Scratch/Id")


@pytest.mark.parametrize(
    ("spelling", "mode"), [("irsa", IdentityMode.IRSA), ("pod-identity", IdentityMode.POD_IDENTITY)]
)
def test_the_string_spelling_of_a_mode_is_the_same_mode(scratch, spelling, mode):
    # one identity enum for the library; every identity/mode prop also takes its string spelling
    by_string, by_enum = _identity(scratch, mode=spelling), _identity(scratch, mode=mode)
    assert by_string.mode is by_enum.mode is mode
    assert mode.label == spelling
    assert (by_string.pod_identity_association is None) == (mode is IdentityMode.IRSA)
    assert set(by_string.service_account_annotations) == set(by_enum.service_account_annotations)


def _granted_actions(grant: iam.Grant) -> list[str]:
    found = []
    for statement in grant.principal_statements:
        action = statement.to_statement_json()["Action"]
        found += action if isinstance(action, list) else [action]
    return sorted(found)


def test_grants_are_aws_cdk_lib_grants_naming_what_they_added(scratch):
    identity = _identity(scratch)
    key = kms.Key(scratch["stack"], "GrantKey")
    bucket = s3.Bucket(scratch["stack"], "Encrypted", encryption_key=key)
    read = identity.read_prefix(bucket, "datasets/imagenet")
    write = identity.write_prefix(bucket, "checkpoints", read=False, delete=True)
    mount = identity.efs_client(scratch["fs"], scratch["fs"].add_access_point("Ap", path="/ap"), write=False)
    for grant in (read, write, mount):
        assert isinstance(grant, iam.Grant) and grant.success
    assert _granted_actions(read) == ["kms:Decrypt", "s3:GetObject", "s3:ListBucket"]
    assert _granted_actions(write) == [
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "s3:AbortMultipartUpload",
        "s3:DeleteObject",
        "s3:ListMultipartUploadParts",
        "s3:PutObject",
    ]
    assert _granted_actions(mount) == ["elasticfilesystem:ClientMount"]
    # the grants' statements are exactly what the role's identity policy holds
    policy = identity.role.node.find_child("DefaultPolicy").document.to_json()["Statement"]
    granted = [st.to_statement_json() for g in (read, write, mount) for st in g.principal_statements]
    assert sorted(map(json.dumps, map(scratch["stack"].resolve, granted))) == sorted(
        map(json.dumps, map(scratch["stack"].resolve, policy))
    )


def test_service_account_names_are_dns_subdomains_as_kubernetes_allows(scratch):
    identity = _identity(scratch, service_account="trainer.v2")
    assert identity.service_account_name == "trainer.v2"


@pytest.mark.parametrize(
    ("prefix", "message"),
    [
        ("", "invalid prefix='': must be a non-empty S3 key prefix"),
        ("/", "invalid prefix='/'"),
        ("/datasets", "invalid prefix='/datasets'.*no leading '/'"),
        ("datasets/*", r"invalid prefix='datasets/\*'.*no '\*' or '\?'"),
        ("data?sets", r"invalid prefix='data\?sets'"),
        ("datasets//imagenet", "invalid prefix='datasets//imagenet'.*no empty or '..' segments"),
        ("datasets/../secrets", r"invalid prefix='datasets/\.\./secrets'"),
    ],
)
def test_bad_prefixes(scratch, prefix, message):
    identity = _identity(scratch)
    with pytest.raises(EksAiDataValidationError, match=message):
        identity.read_prefix(scratch["bucket"], prefix)
    with pytest.raises(EksAiDataValidationError, match=message):
        identity.write_prefix(scratch["bucket"], prefix)


def test_efs_arn_must_be_a_file_system_arn(scratch):
    identity = _identity(scratch)
    ap = scratch["fs"].add_access_point(f"Ap{next(_counter)}")
    with pytest.raises(
        EksAiDataValidationError, match="invalid file_system='fs-12345678': must be an EFS file system ARN"
    ):
        identity.efs_client("fs-12345678", ap)


def test_access_point_must_belong_to_the_file_system(scratch):
    identity = _identity(scratch)
    with pytest.raises(
        EksAiDataValidationError,
        match="invalid access_point='Scratch/Other/Ap': must be an access point of the file system Scratch/Fs",
    ):
        identity.efs_client(scratch["fs"], scratch["other_ap"])


def test_irsa_needs_an_oidc_provider(scratch):
    imported = eks.Cluster.from_cluster_attributes(
        scratch["stack"], f"Imported{next(_counter)}", cluster_name="existing"
    )
    with pytest.raises(
        EksAiDataValidationError, match=r"invalid cluster=.*IRSA needs the cluster's IAM OIDC provider"
    ):
        WorkloadIdentity(
            scratch["stack"], f"Id{next(_counter)}", cluster=imported, namespace="ns", service_account="sa"
        )
    # Pod Identity does not need one
    pod = WorkloadIdentity(
        scratch["stack"],
        f"Id{next(_counter)}",
        cluster=imported,
        namespace="ns",
        service_account="sa",
        mode=IdentityMode.POD_IDENTITY,
    )
    assert pod.pod_identity_association is not None


def test_tokens_skip_value_checks(scratch):
    token = cdk.Token.as_string(cdk.Fn.ref("AWS::StackName"))
    identity = _identity(scratch, namespace=token)
    identity.read_prefix(scratch["bucket"], cdk.Fn.join("", ["a", token]))
    assert isinstance(identity.role, iam.Role)


def test_flatten_cfn_matches_cdk_nag_naming():
    assert nag_flatten({"Fn::Join": ["", [{"Fn::GetAtt": ["B1", "Arn"]}, "/p/*"]]}) == "<B1.Arn>/p/*"
    assert (
        nag_flatten({"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::b/p/*"]]})
        == "arn:<AWS::Partition>:s3:::b/p/*"
    )
    assert nag_flatten("arn:${AWS::Partition}:x") == "arn:<AWS::Partition>:x"
    assert re.fullmatch(r'\{"Fn::If":.*\}', nag_flatten({"Fn::If": ["C", "a", "b"]}))


@pytest.mark.parametrize(
    ("namespace", "modes"),
    [
        ("team-a", (IdentityMode.IRSA, IdentityMode.POD_IDENTITY)),
        ("team-b", (IdentityMode.POD_IDENTITY,) * 2),
    ],
)
def test_a_second_role_for_one_service_account_is_refused(scratch, namespace, modes):
    first = _identity(scratch, service_account="trainer", namespace=namespace, mode=modes[0])
    with pytest.raises(
        EksAiDataValidationError,
        match=rf"Scratch/Id\d+: invalid service_account='{first.namespace}/trainer': already has a role from "
        rf"{first.node.path} on cluster Scratch/\w+: a service account gets one IAM role",
    ):
        _identity(scratch, service_account="trainer", namespace=first.namespace, mode=modes[1])
    # the same name in another namespace, or another name in the same namespace, is another service account
    _identity(scratch, service_account="trainer", namespace=first.namespace + "-b", mode=modes[1])
    _identity(scratch, service_account="trainer-b", namespace=first.namespace, mode=modes[1])

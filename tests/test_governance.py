"""Team access: an IAM role of a team's member reaches the cluster through an EKS access entry of type STANDARD that maps
it to the team's Kubernetes group, with no EKS access policy, so what it may do is exactly what the team's RoleBinding
grants (EKS user guide, grant-k8s-access), read here from the manifests the cluster applies."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

from eks_ai_data.cluster import AiCluster
from eks_ai_data.errors import EksAiDataValidationError
from eks_ai_data.governance import TeamAccess
from eks_ai_data.k8s import TeamSpec
from eks_ai_data.patterns.cluster_storage import ClusterStorage
from tests._gates import cfn_lint_errors
from tests.conftest import synthesize
from tests.platform.k8s_access import RbacModel
from tests.platform.k8s_model import ClusterModel

STACK = "TeamsOnly"
ADMIN = "arn:aws:iam::111122223333:role/PlatformAdmin"
ALICE = "arn:aws:iam::111122223333:role/research/Alice"
BOB = "arn:aws:iam::111122223333:role/Bob"
CAROL = "arn:aws:iam::111122223333:role/Carol"


def _build(app: cdk.App) -> None:
    stack = cdk.Stack(app, STACK)
    platform = AiCluster(stack, "Platform", admin_principal_arn=ADMIN)
    ClusterStorage(
        stack,
        "InCluster",
        cluster=platform,
        namespaces=["training"],
        teams=[
            TeamSpec("research", 2001, 2001, iam_role_arns=[ALICE, BOB], gpu_quota=8),
            TeamSpec("vision", 2002, 2002, iam_role_arns=[CAROL]),
            TeamSpec("audit", 2003, 2003),  # no members yet: RBAC objects, no access entry
        ],
    )


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    return synthesize(_build, tmp_path_factory.mktemp("governance"))


def _entries(synth) -> dict[str, dict]:
    return {
        r["Properties"]["PrincipalArn"]: r["Properties"]
        for r in synth.resources(STACK, "AWS::EKS::AccessEntry").values()
        if isinstance(r["Properties"]["PrincipalArn"], str)
    }


def test_each_member_gets_a_standard_entry_to_the_team_group_and_no_access_policy(synth):
    entries = _entries(synth)
    assert set(entries) == {ADMIN, ALICE, BOB, CAROL}
    for arn, group in (
        (ALICE, "eks-ai-data:research"),
        (BOB, "eks-ai-data:research"),
        (CAROL, "eks-ai-data:vision"),
    ):
        assert entries[arn]["Type"] == "STANDARD"
        assert entries[arn]["KubernetesGroups"] == [group]
        assert "AccessPolicies" not in entries[arn]
        assert entries[arn]["ClusterName"] == {"Ref": next(iter(synth.resources(STACK, "AWS::EKS::Cluster")))}


def test_a_member_may_do_what_the_team_role_grants_in_the_team_namespace_only(synth):
    cluster = ClusterModel(synth.templates, STACK)
    rbac = RbacModel(cluster.objects)
    for arn, team, other in ((ALICE, "research", "vision"), (CAROL, "vision", "research")):
        groups = _entries(synth)[arn]["KubernetesGroups"]
        assert rbac.allows(groups, "create", "jobs", team, api_group="batch")
        assert not rbac.allows(groups, "create", "jobs", other, api_group="batch")
        assert not rbac.allows(groups, "create", "jobs", "training", api_group="batch")
        assert not rbac.allows(groups, "delete", "networkpolicies", team, api_group="networking.k8s.io")
        assert not rbac.allows(groups, "list", "secrets", "kube-system")
    # the team without members has its RBAC objects but nobody is mapped to its group
    assert rbac.bindings_of(["eks-ai-data:audit"])
    assert not any("eks-ai-data:audit" in e.get("KubernetesGroups", []) for e in _entries(synth).values())


def test_gates(synth):
    assert cfn_lint_errors(synth.template(STACK)) == []
    assert synth.nag_findings == []


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            {"principal_arns": [ADMIN]},
            r"principal_arns='.*PlatformAdmin': already has the cluster's admin access entry",
        ),
        ({"principal_arns": [BOB, BOB]}, r"principal_arns='.*Bob': lists the same principal twice"),
        ({"principal_arns": ["Bob"]}, r"principal_arns='Bob': must be IAM role or user ARNs"),
        (
            {"principal_arns": ["arn:aws:iam::111122223333:group/devs"]},
            r"principal_arns='arn:aws:iam::111122223333:group/devs': must be IAM role or user ARNs",
        ),
        (
            {"principal_arns": [BOB], "kubernetes_group": "system:masters"},
            r"kubernetes_group='system:masters': must be a Kubernetes group name",
        ),
        ({"principal_arns": [BOB], "kubernetes_group": "aws:admins"}, r"kubernetes_group='aws:admins'"),
    ],
)
def test_bad_access_is_refused(props, message):
    stack = cdk.Stack(cdk.App(), "S")
    platform = AiCluster(stack, "P", admin_principal_arn=ADMIN)
    props = {"kubernetes_group": "eks-ai-data:research", **props}
    with pytest.raises(EksAiDataValidationError, match=message):
        TeamAccess(stack, "A", cluster=platform, **props)


def test_teams_may_not_take_a_workload_namespace():
    stack = cdk.Stack(cdk.App(), "S")
    platform = AiCluster(stack, "P")
    with pytest.raises(EksAiDataValidationError, match=r"teams.name='training': is a workload namespace"):
        ClusterStorage(
            stack, "C", cluster=platform, namespaces=["training"], teams=[TeamSpec("training", 2001, 2001)]
        )

"""Example Corp's app under the platform model (tests/platform): its claims schedule in the file system's zone,
Lustre clients and servers admit each other, it follows the support rules, and no role can destroy its data."""

from __future__ import annotations

import pytest

from company_app import PRODUCTION
from tests.platform.iam_model import PolicyModel
from tests.platform.k8s_model import GPU, ClusterModel, Pod
from tests.platform.mounts import LUSTRE_PORTS, SecurityGroups
from tests.platform.support_rules import problems

STACK = "ExampleCorpMlPlatform"
ZONES = dict(zip(PRODUCTION.private_subnet_ids, PRODUCTION.availability_zones, strict=True))


@pytest.fixture(scope="module")
def model(company_app) -> ClusterModel:
    return ClusterModel(company_app.templates, STACK, subnet_zones=ZONES, region=PRODUCTION.region)


def test_the_dataset_claim_schedules_gpu_pods_in_the_file_system_zone_only(model):
    claims = [c for c in model.claims() if c["metadata"]["namespace"] in model.workload_namespaces()]
    assert claims
    for claim in claims:
        pod = Pod(
            namespace=claim["metadata"]["namespace"],
            claims=[claim["metadata"]["name"]],
            requests={GPU: 8},
            tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
        )
        placements = model.feasible(pod)
        assert placements
        (_, zones) = next(
            (v, z) for v, z in model.zonal_volumes() if v["metadata"]["name"] == claim["spec"]["volumeName"]
        )
        assert {p.zone for p in placements} == set(zones) and len(zones) == 1


def test_lustre_clients_and_servers_admit_each_other(model):
    cluster_sgs = [
        f"<{lid}.ClusterSecurityGroupId>" for _, lid in model.resources("AWS::EKS::Cluster", STACK)
    ]
    groups = SecurityGroups(model, all_outbound=cluster_sgs)
    (node_group,) = cluster_sgs
    for s, lid in model.resources("AWS::FSx::FileSystem", STACK):
        (server,) = model._resolve(s, model._resources[(s, lid)].properties["SecurityGroupIds"])
        for port in LUSTRE_PORTS:
            assert groups.connects(node_group, server, port) and groups.connects(server, node_group, port)


def test_support_rules(company_app):
    assert problems(company_app.templates, region=PRODUCTION.region) == []


def test_no_role_can_delete_or_retag_the_file_system(company_app):
    policies = PolicyModel(company_app.templates, region=PRODUCTION.region)
    for s, lid in policies.resources("AWS::FSx::FileSystem", STACK):
        arn = policies.arn(s, lid)
        context = {"aws:ResourceTag/eks-ai-data:protected": "true"}
        for role in policies.roles(STACK):
            for action in (
                "fsx:DeleteFileSystem",
                "fsx:UpdateFileSystem",
                "fsx:TagResource",
                "fsx:UntagResource",
            ):
                assert not policies.can(role, action, arn, context=context), (role.arn, action)

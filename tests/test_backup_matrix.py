"""The support matrix (layer 1): its facts against the AWS Backup API model botocore ships, and the README's table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from botocore.loaders import Loader

from eks_ai_data import protection_matrix as pm
from eks_ai_data.backup import NOTIFICATION_EVENTS
from tests.test_layers import CDK_ROOTS, imports

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


@pytest.fixture(scope="module")
def backup_api():
    return Loader().load_service_model("backup", "service-2")["shapes"]


def _codes(documentation: str) -> set[str]:
    return set(re.findall(r"<code>([^<]+)</code>", documentation))


def test_restore_testing_types_are_those_the_api_accepts_and_eks_is_not_one(backup_api):
    doc = backup_api["RestoreTestingSelectionForCreate"]["members"]["ProtectedResourceType"]["documentation"]
    assert _codes(doc) == pm.RESTORE_TESTING_TYPES
    assert "EKS" not in pm.RESTORE_TESTING_TYPES
    assert {n for n, t in pm.BACKUP_TYPES.items() if t.restore_testing} == {"EFS", "EBS", "S3", "FSx"}


def test_every_selectable_type_is_an_aws_backup_resource_type(backup_api):
    doc = backup_api["GetSupportedResourceTypesOutput"]["members"]["ResourceTypes"]["documentation"]
    assert set(pm.BACKUP_TYPES) <= _codes(doc)


def test_notification_events_exist_in_the_api(backup_api):
    events = set(backup_api["BackupVaultEvent"]["enum"])
    assert set(NOTIFICATION_EVENTS) | set(pm.EKS_BACKUP_EVENTS) <= events


def test_cold_storage_and_continuous_backup():
    assert frozenset({"EFS", "EBS"}) == pm.COLD_STORAGE_TYPES
    assert frozenset({"S3"}) == pm.CONTINUOUS_BACKUP_TYPES


@pytest.mark.parametrize(
    ("deployment", "linked", "supported"),
    [
        ("PERSISTENT_2", False, True),
        ("PERSISTENT_1", False, True),
        ("PERSISTENT_2", True, False),
        ("SCRATCH_2", False, False),
        ("SCRATCH_1", True, False),
    ],
)
def test_lustre_backups(deployment, linked, supported):
    problem = pm.lustre_backup_problem(deployment, linked)
    assert (problem is None) == supported
    if linked and not deployment.startswith("SCRATCH"):
        assert "linked to an Amazon S3 data repository" in problem
    if deployment.startswith("SCRATCH"):
        assert "scratch" in problem


def test_cluster_arns():
    assert pm.EKS_CLUSTER_ARN.match("arn:aws:eks:eu-west-1:111122223333:cluster/ml_platform-1")
    assert pm.EKS_CLUSTER_ARN.match("arn:aws-us-gov:eks:us-gov-west-1:111122223333:cluster/a")
    assert not pm.EKS_CLUSTER_ARN.match("arn:aws:eks:eu-west-1:111122223333:nodegroup/x/y/z")
    assert not pm.EKS_CLUSTER_ARN.match("arn:aws:eks:eu-west-1:111122223333:cluster/-bad")
    assert pm.EKS_BACKUP_AUTHENTICATION_MODES == {"API", "API_AND_CONFIG_MAP"}


def test_every_rule_names_its_source():
    for t in pm.BACKUP_TYPES.values():
        assert "guide" in t.source or "reference" in t.source, t.name
    for m in pm.MECHANISMS.values():
        assert "guide" in m.source, m.key
    for n in pm.NO_BACKUP_NEEDED.values():
        assert "guide" in n.source or "reference" in n.source, n.key


def test_the_readme_lists_the_matrix():
    assert pm.render_matrix() in README
    assert len(pm.support_matrix()) == len(pm.BACKUP_TYPES) + 2 + len(pm.NO_BACKUP_NEEDED)


def test_the_matrix_is_layer_one():
    names = {n.split(".")[0] for n in imports("protection_matrix")}
    assert names & CDK_ROOTS == set()
    assert {n.split(".")[1] for n in imports("protection_matrix") if n.startswith("eks_ai_data.")} == set()

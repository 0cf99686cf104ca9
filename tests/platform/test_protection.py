"""Every stateful resource of every template has a named protection mechanism, or the documented reason it needs none.

The walk reads the synthesized templates only (what CloudFormation and AWS Backup will see) and the support matrix
(:mod:`eks_ai_data.protection_matrix`): the reference app (default config, and with the Lustre model cache) and
Example Corp's app (examples/company_app). examples/training_job emits Kubernetes manifests only (cdk8s), no
CloudFormation template, so it holds no AWS resource to protect.

For each resource of :data:`eks_ai_data.stateful.STATEFUL_RESOURCE_TYPES` it finds one of:

- ``aws-backup``: a backup selection names its ARN (EBS volumes: a tag selection matches its tags), and the
  resource meets the matrix's requirement for its type (S3: versioning; FSx: persistent and not linked);
- ``fsx-automatic-backups`` / ``efs-automatic-backups``: the service's own backups are on, where the matrix
  supports them;
- a reason from ``NO_BACKUP_NEEDED`` whose protection is visible in the template: KMS keys and log groups retained
  (log groups with a retention period), access-log buckets with an expiration rule, vaults with an access policy
  that denies early deletion, Lustre linked to S3 whose every linked bucket is itself backed up (or lies outside the
  app: an imported bucket, protected by its owner).

Anything else fails the test. It also fails when a template configures a backup AWS does not support.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from eks_ai_data.protection_matrix import (
    BACKUP_TYPES,
    COLD_STORAGE_TYPES,
    NO_BACKUP_NEEDED,
    RESTORE_TESTING_TYPES,
    lustre_backup_problem,
)
from eks_ai_data.stateful import RETAINING_POLICIES, STATEFUL_RESOURCE_TYPES
from tests.conftest import synthesize
from tests.platform.cfn_templates import REFERENCE_PLATFORMS, Platform, Templates

ROOT = Path(__file__).resolve().parents[2]
COMPANY_APP = ROOT / "examples" / "company_app"


class ProtectionWalk(Templates):
    """Backup selections, associations and log targets of a set of templates, and each stateful resource's verdict."""

    def _index(self) -> None:
        self.selected: dict[str, str] = {}  # ARN -> selection
        self.tag_selections: list[tuple[str, str]] = []
        self.links: dict[tuple[str, str], list[str]] = {}  # (stack, fs logical id) -> data repository paths
        self.log_targets: set[tuple[str, str]] = set()
        self.problems: list[str] = []
        # file systems by id, whichever stack they are in (an association may link an imported one)
        refs = {
            self.ref(s, lid): (s, lid) for (s, lid), r in self._resources.items() if "FileSystem" in r.type
        }
        for (stack, lid), res in self._resources.items():
            props = res.properties
            if res.type == "AWS::Backup::BackupSelection":
                body = props["BackupSelection"]
                for arn in self._resolve(stack, body.get("Resources", [])):
                    self.selected[arn] = f"{stack}/{lid}"
                for cond in body.get("Conditions", {}).get("StringEquals", []):
                    key = cond["ConditionKey"].removeprefix("aws:ResourceTag/")
                    self.tag_selections.append((key, cond["ConditionValue"]))
            elif res.type == "AWS::FSx::DataRepositoryAssociation":
                fs = refs.get(self._resolve(stack, props["FileSystemId"]))
                if fs is not None:
                    self.links.setdefault(fs, []).append(self._resolve(stack, props["DataRepositoryPath"]))
            elif res.type == "AWS::S3::Bucket" and "LoggingConfiguration" in props:
                target = self._resolve(stack, props["LoggingConfiguration"].get("DestinationBucketName"))
                self.log_targets.update(
                    (s, lid2)
                    for (s, lid2), r in self._resources.items()
                    if r.type == "AWS::S3::Bucket" and self.ref(s, lid2) == target
                )

    # -- verdicts ------------------------------------------------------------------------------------------
    def verdicts(self) -> dict[tuple[str, str], tuple[str, str]]:
        """``(stack, logical id) -> (mechanism or reason, detail)`` for every stateful resource (``unknown`` if none)."""
        found = {}
        for (stack, lid), res in sorted(self._resources.items()):
            if res.type in STATEFUL_RESOURCE_TYPES:
                raw = self._templates[stack]["Resources"][lid]
                found[(stack, lid)] = self._verdict(stack, lid, res.type, res.properties, raw)
        return found

    def _verdict(self, stack: str, lid: str, type_: str, props: dict, raw: dict) -> tuple[str, str]:
        retained = raw.get("DeletionPolicy") in RETAINING_POLICIES
        arn = self.arn(stack, lid)
        if type_ == "AWS::S3::Bucket":
            if arn in self.selected:
                versioning = props.get("VersioningConfiguration", {}).get("Status")
                if versioning != "Enabled":
                    self.problems.append(f"{stack}/{lid}: selected for AWS Backup but not versioned")
                return "aws-backup", self.selected[arn]
            lifecycle = props.get("LifecycleConfiguration", {}).get("Rules", [])
            if (
                (stack, lid) in self.log_targets
                and retained
                and any("ExpirationInDays" in r for r in lifecycle)
            ):
                return "access-log-bucket", "expiration rule, retained"
        elif type_ == "AWS::EFS::FileSystem":
            if arn in self.selected:
                return "aws-backup", self.selected[arn]
            if props.get("BackupPolicy", {}).get("Status") == "ENABLED":
                return "efs-automatic-backups", "BackupPolicy ENABLED"
        elif type_ == "AWS::FSx::FileSystem":
            return self._lustre(stack, lid, props, arn)
        elif type_ == "AWS::EC2::Volume":
            tags = {t["Key"]: t["Value"] for t in props.get("Tags", [])}
            if any(tags.get(k) == v for k, v in self.tag_selections):
                return "aws-backup", "EBS tag selection"
        elif type_ in ("AWS::KMS::Key", "AWS::KMS::ReplicaKey") and retained:
            return "kms-key", f"retained, deletion waits {props.get('PendingWindowInDays', 30)} days"
        elif type_ == "AWS::Logs::LogGroup" and retained and props.get("RetentionInDays"):
            return "log-group", f"retained, {props['RetentionInDays']} days"
        elif type_ == "AWS::Backup::BackupVault" and retained:
            statements = (props.get("AccessPolicy") or {}).get("Statement", [])
            if any(s["Effect"] == "Deny" and "backup:DeleteRecoveryPoint" in s["Action"] for s in statements):
                return "backup-vault", "access policy denies early deletion"
        return "unknown", type_

    def _lustre(self, stack: str, lid: str, props: dict, arn: str) -> tuple[str, str]:
        config = props.get("LustreConfiguration", {})
        links = list(self.links.get((stack, lid), []))
        links += [config[k] for k in ("ImportPath", "ExportPath") if config.get(k)]
        problem = lustre_backup_problem(config.get("DeploymentType"), linked=bool(links))
        automatic = config.get("AutomaticBackupRetentionDays", 0)
        if problem and (arn in self.selected or automatic):
            self.problems.append(f"{stack}/{lid}: configures a backup FSx does not support: {problem}")
        if problem is None:
            if arn in self.selected:
                return "aws-backup", self.selected[arn]
            if automatic:
                return "fsx-automatic-backups", f"{automatic} days"
            return "unknown", "persistent, unlinked, not backed up"
        if not links:
            return "lustre-scratch", "keep its data in S3"
        copies = []
        for path in links:
            name = path.removeprefix("s3://").split("/", 1)[0]
            bucket = [
                (s, b)
                for (s, b), r in self._resources.items()
                if r.type == "AWS::S3::Bucket" and self.ref(s, b) == name
            ]
            if not bucket:
                copies.append(f"{path} (outside the app)")
            elif self.arn(*bucket[0]) in self.selected:
                copies.append(f"{path} (backed up)")
            else:
                self.problems.append(f"{stack}/{lid}: its durable copy {path} is not backed up")
        return "lustre-linked", "; ".join(copies)

    # -- what AWS would refuse or ignore ----------------------------------------------------------------------
    def unsupported(self) -> list[str]:
        """Backups the templates configure that AWS does not support, beyond those :meth:`verdicts` noted."""
        problems = []
        cfn_types = {c: t for t in BACKUP_TYPES.values() for c in t.cfn_types}
        for (stack, lid), res in self._resources.items():
            if res.type == "AWS::Backup::BackupSelection":
                for arn in self._resolve(stack, res.properties["BackupSelection"].get("Resources", [])):
                    known = [
                        x.type
                        for (s, r), x in self._resources.items()
                        if x.type.count("::") == 2 and self.arn(s, r) == arn
                    ]
                    if known and known[0] not in cfn_types:
                        problems.append(f"{stack}/{lid}: selects {arn}, a type AWS Backup does not take")
            elif res.type == "AWS::Backup::RestoreTestingSelection":
                kind = res.properties["ProtectedResourceType"]
                if kind not in RESTORE_TESTING_TYPES:
                    problems.append(f"{stack}/{lid}: restore testing does not take {kind}")
                for arn in self._resolve(stack, res.properties.get("ProtectedResourceArns", [])):
                    if arn != "*" and arn not in self.selected:
                        problems.append(f"{stack}/{lid}: restore-tests {arn}, which no plan backs up")
            elif res.type == "AWS::Backup::BackupPlan":
                cold = [
                    r
                    for r in res.properties["BackupPlan"]["BackupPlanRule"]
                    if "MoveToColdStorageAfterDays" in r.get("Lifecycle", {})
                ]
                if cold and not COLD_STORAGE_TYPES & self._plan_types(stack, lid):
                    problems.append(f"{stack}/{lid}: cold storage for types that ignore it")
        return problems + self.problems

    def plan_of(self, selection: str) -> tuple[str, str] | None:
        """``(stack, logical id)`` of the backup plan a selection (``stack/logical id``) belongs to, in any stack
        (a cluster stack's selection names its data stack's plan through an import); ``None`` for a plan outside
        the templates."""
        stack, lid = selection.split("/", 1)
        plan_id = self._resolve(stack, self._resources[(stack, lid)].properties["BackupPlanId"])
        plans = [k for k in self.resources("AWS::Backup::BackupPlan") if self.ref(*k) == plan_id]
        return plans[0] if plans else None

    def _plan_types(self, stack: str, plan: str) -> set[str]:
        kinds = set()
        for (s, lid), res in self._resources.items():
            if res.type != "AWS::Backup::BackupSelection" or self.plan_of(f"{s}/{lid}") != (stack, plan):
                continue
            body = res.properties["BackupSelection"]
            if body.get("Conditions"):
                kinds.add("EBS")
            for arn in self._resolve(s, body.get("Resources", [])):
                kinds.update(n for n, t in BACKUP_TYPES.items() if t.arn.split(":")[2] == arn.split(":")[2])
        return kinds

    def clusters(self) -> dict[tuple[str, str], bool]:
        """Every EKS cluster and whether a backup selection names it."""
        return {k: self.arn(*k) in self.selected for k in self.resources("AWS::EKS::Cluster")}


# -- the assemblies ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lustre_cache(tmp_path_factory):
    """The reference app with the Lustre model cache (linked to the model bucket)."""
    from stacks import build
    from stacks.config import PlatformConfig

    return synthesize(
        lambda app: build(app, PlatformConfig(model_cache="lustre")), tmp_path_factory.mktemp("lustre-cache")
    )


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    if str(COMPANY_APP) not in sys.path:
        sys.path.append(str(COMPANY_APP))
    from company_app import build

    context = json.loads((COMPANY_APP / "cdk.json").read_text()).get("context", {})
    return synthesize(build, tmp_path_factory.mktemp("company-protection"), context=context)


def _table(verdicts: dict[tuple[str, str], tuple[str, str]]) -> str:
    return "\n".join(f"{s}/{lid}: {key} ({detail})" for (s, lid), (key, detail) in verdicts.items())


def _expect(verdicts: dict[tuple[str, str], tuple[str, str]], expected: dict[str, str]) -> None:
    got = {}
    for (stack, lid), (key, _) in verdicts.items():
        (name,) = [n for n in expected if lid.startswith(n.split("/")[1]) and stack == n.split("/")[0]] or [
            lid
        ]
        got[name] = key
    assert got == expected, _table(verdicts)


#: Stateful resources a cluster stack holds: the cluster's own log groups (control plane, the kubectl provider's and
#: the custom resources' handlers, Container Insights), each retained with a retention period. Everything that
#: holds data (keys, buckets, file systems, the vault) is in the data stack, which outlives the cluster stacks.
CLUSTER_LOG_GROUPS = (
    "AWSCDKCfnUtilsProviderCustomResourceProviderHandlerLogs",
    "EksAiDataAsgTagsHandlerLogs",
    "MonitoringContainerInsightsLogGroupapplication",
    "MonitoringContainerInsightsLogGroupdataplane",
    "MonitoringContainerInsightsLogGrouphost",
    "MonitoringContainerInsightsLogGroupperformance",
    "PlatformClusterKubectlProviderHandlerResourceLogs",
    "PlatformClusterKubectlProviderframeworkonEventResourceLogs",
    "PlatformControlPlaneLogs",
)


def _platform(platform: Platform, data: dict[str, str]) -> dict[str, str]:
    """The expected verdicts of a platform: ``data`` (logical-id prefix -> verdict) in its data stack, and the
    cluster's log groups in its cluster stack."""
    return {
        **{f"{platform.data}/{name}": verdict for name, verdict in data.items()},
        **{f"{platform.cluster}/{name}": "log-group" for name in CLUSTER_LOG_GROUPS},
    }


DATA_KEYS_AND_NETWORK = {
    "KeysSecretsKey": "kms-key",
    "KeysDataKey": "kms-key",
    "KeysBackupKey": "kms-key",
    "NetworkFlowLogs": "log-group",
    "CustomVpcRestrictDefaultSGCustomResourceProviderHandlerLogs": "log-group",
    "BackupsVault": "backup-vault",
}
TRAINING = _platform(
    REFERENCE_PLATFORMS["training"],
    {
        **DATA_KEYS_AND_NETWORK,
        "SharedEfsFileSystem": "aws-backup",
        "DatasetBucketAccessLogs": "access-log-bucket",
        "DatasetBucket1": "aws-backup",
        "DatasetLustreFileSystem": "lustre-linked",
        "CheckpointsBucketAccessLogs": "access-log-bucket",
        "CheckpointsBucketC": "aws-backup",
        "CatalogDatasetsCrawlerLogs": "log-group",
    },
)
INFERENCE = _platform(
    REFERENCE_PLATFORMS["inference"],
    {
        **DATA_KEYS_AND_NETWORK,
        "ModelsBucketAccessLogs": "access-log-bucket",
        "ModelsBucket7": "aws-backup",
        "ModelsCacheFileSystem": "aws-backup",
        "CatalogModelsCrawlerLogs": "log-group",
    },
)


def test_every_stateful_resource_of_the_reference_app_is_protected_or_needs_no_backup(reference):
    walk = ProtectionWalk(reference.templates)
    verdicts = walk.verdicts()
    print("\n" + _table(verdicts))  # the walk's table, shown with -s
    _expect(verdicts, {**TRAINING, **INFERENCE})
    assert {key for key, _ in verdicts.values()} <= {"aws-backup", *NO_BACKUP_NEEDED}
    assert walk.unsupported() == []


def test_the_linked_lustre_file_system_has_every_byte_in_a_backed_up_bucket(reference):
    walk = ProtectionWalk(reference.templates)
    (lustre,) = [v for k, v in walk.verdicts().items() if k[1].startswith("DatasetLustreFileSystem")]
    key, detail = lustre
    # the dataset bucket it imports from and the checkpoint prefix it exports to
    assert key == "lustre-linked"
    assert detail.count("(backed up)") == 2 and "outside" not in detail, detail


def test_both_reference_clusters_are_in_their_backup_plans(reference):
    walk = ProtectionWalk(reference.templates)
    clusters = walk.clusters()
    assert sorted(stack for stack, _ in clusters) == sorted(p.cluster for p in REFERENCE_PLATFORMS.values())
    assert all(clusters.values()), clusters
    for platform in REFERENCE_PLATFORMS.values():
        # each cluster is selected (from its cluster stack) into its own data stack's plan
        ((cluster_stack, cluster),) = [k for k in clusters if k[0] == platform.cluster]
        selection = walk.selected[walk.arn(cluster_stack, cluster)]
        assert selection.startswith(f"{platform.cluster}/"), selection
        (plan,) = walk.resources("AWS::Backup::BackupPlan", platform.data)
        assert walk.plan_of(selection) == plan, selection


def test_the_lustre_model_cache_is_protected_through_the_model_bucket(lustre_cache):
    walk = ProtectionWalk(lustre_cache.templates)
    inference = REFERENCE_PLATFORMS["inference"]
    verdicts = {k: v for k, v in walk.verdicts().items() if k[0] in inference.stacks}
    (cache,) = [v for k, v in verdicts.items() if k[1].startswith("ModelsCache")]
    assert cache[0] == "lustre-linked" and "(backed up)" in cache[1], _table(verdicts)
    assert "unknown" not in {key for key, _ in verdicts.values()}, _table(verdicts)
    assert walk.unsupported() == []


#: The company app's own log groups: its cluster's (no Container Insights add-on there).
COMPANY_LOG_GROUPS = tuple(n for n in CLUSTER_LOG_GROUPS if not n.startswith("MonitoringContainerInsights"))


def test_the_company_app_lustre_copy_lives_in_the_bucket_it_imports(company):
    walk = ProtectionWalk(company.templates)
    verdicts = walk.verdicts()
    _expect(
        verdicts,
        {
            "ExampleCorpMlPlatform/KeysSecretsKey": "kms-key",
            "ExampleCorpMlPlatform/LustreFileSystem": "lustre-linked",
            **{f"ExampleCorpMlPlatform/{name}": "log-group" for name in COMPANY_LOG_GROUPS},
        },
    )
    (lustre,) = [v for k, v in verdicts.items() if k[1].startswith("LustreFileSystem")]
    assert lustre[1].count("(outside the app)") == 2, (
        lustre
    )  # /datasets and /checkpoints in the imported bucket
    assert walk.unsupported() == []


# -- the walk itself can fail -------------------------------------------------------------------------------
def _template(resources: dict[str, Any]) -> dict[str, Any]:
    return {"Resources": resources}


def test_an_unprotected_bucket_and_a_backed_up_linked_lustre_are_reported():
    templates = {
        "S": _template(
            {
                "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {}, "DeletionPolicy": "Retain"},
                "Fs": {
                    "Type": "AWS::FSx::FileSystem",
                    "Properties": {
                        "LustreConfiguration": {
                            "DeploymentType": "PERSISTENT_2",
                            "AutomaticBackupRetentionDays": 7,
                        }
                    },
                },
                "Link": {
                    "Type": "AWS::FSx::DataRepositoryAssociation",
                    "Properties": {
                        "FileSystemId": {"Ref": "Fs"},
                        "FileSystemPath": "/d",
                        "DataRepositoryPath": {"Fn::Join": ["", ["s3://", {"Ref": "Bucket"}, "/d/"]]},
                    },
                },
                "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
            }
        )
    }
    walk = ProtectionWalk(templates)
    verdicts = walk.verdicts()
    assert verdicts[("S", "Bucket")] == ("unknown", "AWS::S3::Bucket")
    assert verdicts[("S", "Table")] == ("unknown", "AWS::DynamoDB::Table")
    assert verdicts[("S", "Fs")][0] == "lustre-linked"
    problems = walk.unsupported()
    assert any("S/Fs: configures a backup FSx does not support" in p for p in problems), problems
    assert any("S/Fs: its durable copy s3://s-bucket/d/ is not backed up" in p for p in problems), problems


def test_a_restore_test_of_a_type_restore_testing_does_not_take_is_reported():
    templates = {
        "S": _template(
            {
                "T": {
                    "Type": "AWS::Backup::RestoreTestingSelection",
                    "Properties": {
                        "ProtectedResourceType": "EKS",
                        "ProtectedResourceArns": ["arn:aws:eks:eu-west-1:111122223333:cluster/x"],
                    },
                }
            }
        )
    }
    problems = ProtectionWalk(templates).unsupported()
    assert "S/T: restore testing does not take EKS" in problems
    assert (
        "S/T: restore-tests arn:aws:eks:eu-west-1:111122223333:cluster/x, which no plan backs up" in problems
    )

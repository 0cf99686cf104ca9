"""Verify: is the platform a deployed stack describes ready to use?

It reads the stack from CloudFormation (``DescribeStacks``, ``ListStackResources``,
``GetTemplate``) and checks each resource it finds, by type, with the owning service:

- ``AWS::EKS::Cluster``, ``AWS::EKS::Nodegroup``: ``eks:DescribeCluster`` / ``DescribeNodegroup``
  report ACTIVE; the node groups' subnets (``ec2:DescribeSubnets``) give the AZs where nodes run.
- ``AWS::EKS::Addon``: every add-on of the cluster (``ListAddons``/``DescribeAddon``) is ACTIVE,
  and each add-on of the stack is among them.
- ``AWS::FSx::FileSystem``: ``fsx:DescribeFileSystems`` reports AVAILABLE.
- ``AWS::FSx::DataRepositoryAssociation``: AVAILABLE, on the file system and the
  ``FileSystemPath`` that the stack's template asks for.
- ``AWS::EFS::FileSystem``: an available mount target in every AZ that has nodes.
- ``AWS::KMS::Key``: enabled, with automatic rotation on (symmetric customer keys).
- ``AWS::Backup::BackupPlan`` / ``AWS::Backup::BackupSelection``: the plan exists and its
  selections are attached to it.

Physical ids follow the resource types' primary identifiers: a node group is
``cluster/nodegroup``, an add-on ``cluster|addon``, a file system its id, a key its key id.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from botocore.exceptions import ClientError

from .aws import Aws, is_not_found
from .stack import StackResource, StackView, load_stack
from .table import Check, Status

STABLE_OK = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"})
STABLE_WARN = frozenset({"UPDATE_ROLLBACK_COMPLETE", "IMPORT_ROLLBACK_COMPLETE"})


def run(aws: Aws, stack_name: str) -> tuple[list[Check], StackView]:
    """Run every readiness check on ``stack_name`` and return the rows and the stack."""
    view = load_stack(aws, stack_name)
    checks = [_stack_check(view)]
    checks.extend(
        Check("resource", r.logical_id, Status.FAIL, f"{r.type} is {r.status}: {r.reason}".rstrip(": "))
        for r in view.resources
        if r.status.endswith("_FAILED")
    )
    platform_checks: list[Check] = []
    node_azs = _eks_checks(aws, view, platform_checks)
    platform_checks.extend(_lustre_checks(aws, view))
    platform_checks.extend(_efs_checks(aws, view, node_azs))
    platform_checks.extend(_kms_checks(aws, view))
    platform_checks.extend(_backup_checks(aws, view))
    if not platform_checks:
        platform_checks.append(
            Check(
                "stack", view.name, Status.WARN, "no EKS, FSx, EFS, KMS or Backup resources found to verify"
            )
        )
    return checks + platform_checks, view


def _stack_check(view: StackView) -> Check:
    if view.status in STABLE_OK:
        return Check("stack", view.name, Status.OK, f"{view.status}, {len(view.resources)} resources")
    if view.status in STABLE_WARN:
        return Check("stack", view.name, Status.WARN, f"{view.status}: the last change was rolled back")
    return Check("stack", view.name, Status.FAIL, f"stack is {view.status}")


# --- EKS -------------------------------------------------------------------------------------


def _eks_checks(aws: Aws, view: StackView, checks: list[Check]) -> set[str]:
    """Append cluster, node group and add-on rows; return the AZs where node groups run."""
    eks = aws.client("eks")
    clusters = [r.physical_id for r in view.of_type("AWS::EKS::Cluster")]
    for name in clusters:
        try:
            cluster = eks.describe_cluster(name=name)["cluster"]
        except ClientError as exc:
            if not is_not_found(exc):
                raise
            checks.append(Check("eks-cluster", name, Status.FAIL, "cluster not found"))
            continue
        status = cluster.get("status", "")
        detail = f"{status}, Kubernetes {cluster.get('version', '?')}, {cluster.get('platformVersion', '?')}"
        checks.append(Check("eks-cluster", name, Status.OK if status == "ACTIVE" else Status.FAIL, detail))

    subnets: set[str] = set()
    for resource in view.of_type("AWS::EKS::Nodegroup"):
        cluster_name, _, nodegroup_name = resource.physical_id.rpartition("/")
        subject = f"{cluster_name}/{nodegroup_name}"
        try:
            nodegroup = eks.describe_nodegroup(clusterName=cluster_name, nodegroupName=nodegroup_name)[
                "nodegroup"
            ]
        except ClientError as exc:
            if not is_not_found(exc):
                raise
            checks.append(Check("eks-nodegroup", subject, Status.FAIL, "node group not found"))
            continue
        subnets.update(nodegroup.get("subnets", []))
        status = nodegroup.get("status", "")
        scaling = nodegroup.get("scalingConfig", {})
        types = ",".join(nodegroup.get("instanceTypes") or []) or "launch template"
        detail = f"{status}, {types}, desired {scaling.get('desiredSize', '?')}"
        issues = _health(nodegroup)
        checks.append(
            Check("eks-nodegroup", subject, Status.OK if status == "ACTIVE" else Status.FAIL, detail + issues)
        )

    expected_addons: dict[str, set[str]] = defaultdict(set)
    for resource in view.of_type("AWS::EKS::Addon"):
        cluster_name, _, addon_name = resource.physical_id.partition("|")
        expected_addons[cluster_name].add(addon_name)
    for cluster_name in sorted(set(clusters) | set(expected_addons)):
        checks.extend(_addon_checks(aws, cluster_name, expected_addons.get(cluster_name, set())))
    return _subnet_azs(aws, subnets)


def _health(resource: dict[str, Any]) -> str:
    issues = resource.get("health", {}).get("issues", [])
    if not issues:
        return ""
    return "; " + "; ".join(f"{i.get('code', '')}: {i.get('message', '')}" for i in issues)


def _addon_checks(aws: Aws, cluster_name: str, expected: set[str]) -> list[Check]:
    eks = aws.client("eks")
    try:
        names = list(aws.paginate("eks", "list_addons", "addons", clusterName=cluster_name))
    except ClientError as exc:
        if not is_not_found(exc):
            raise
        return [
            Check("eks-addon", f"{cluster_name}|{a}", Status.FAIL, "cluster not found")
            for a in sorted(expected)
        ]
    checks = []
    for name in sorted(set(names)):
        addon = eks.describe_addon(clusterName=cluster_name, addonName=name)["addon"]
        status = addon.get("status", "")
        detail = f"{status}, {addon.get('addonVersion', '?')}" + _health(addon)
        checks.append(
            Check(
                "eks-addon",
                f"{cluster_name}|{name}",
                Status.OK if status == "ACTIVE" else Status.FAIL,
                detail,
            )
        )
    checks.extend(
        Check(
            "eks-addon",
            f"{cluster_name}|{name}",
            Status.FAIL,
            "in the stack but not installed on the cluster",
        )
        for name in sorted(expected - set(names))
    )
    return checks


def _subnet_azs(aws: Aws, subnet_ids: set[str]) -> set[str]:
    if not subnet_ids:
        return set()
    subnets = aws.client("ec2").describe_subnets(SubnetIds=sorted(subnet_ids))["Subnets"]
    return {s["AvailabilityZone"] for s in subnets}


# --- FSx for Lustre --------------------------------------------------------------------------


def _lustre_checks(aws: Aws, view: StackView) -> list[Check]:
    fsx = aws.client("fsx")
    checks = []
    for resource in view.of_type("AWS::FSx::FileSystem"):
        fs_id = resource.physical_id
        try:
            fs = fsx.describe_file_systems(FileSystemIds=[fs_id])["FileSystems"][0]
        except ClientError as exc:
            if not is_not_found(exc):
                raise
            checks.append(Check("fsx-filesystem", fs_id, Status.FAIL, "file system not found"))
            continue
        lifecycle = fs.get("Lifecycle", "UNKNOWN")
        deployment = fs.get("LustreConfiguration", {}).get("DeploymentType", "")
        detail = (
            f"{lifecycle}, {fs.get('FileSystemType', '')} {deployment}, {fs.get('StorageCapacity', '?')} GiB"
        )
        checks.append(
            Check(
                "fsx-filesystem",
                fs_id,
                Status.OK if lifecycle == "AVAILABLE" else Status.FAIL,
                detail.strip(),
            )
        )
    for resource in view.of_type("AWS::FSx::DataRepositoryAssociation"):
        checks.append(_association_check(aws, view, resource))
    return checks


def _association_check(aws: Aws, view: StackView, resource: StackResource) -> Check:
    props = view.properties(resource.logical_id)
    expected_path = props.get("FileSystemPath") if isinstance(props.get("FileSystemPath"), str) else None
    expected_fs = view.resolve(props.get("FileSystemId"))
    try:
        associations = (
            aws.client("fsx")
            .describe_data_repository_associations(AssociationIds=[resource.physical_id])
            .get("Associations", [])
        )
    except ClientError as exc:
        if not is_not_found(exc):
            raise
        associations = []
    if not associations:
        return Check(
            "fsx-association", resource.physical_id, Status.FAIL, "data repository association not found"
        )
    dra = associations[0]
    lifecycle = dra.get("Lifecycle", "UNKNOWN")
    path = dra.get("FileSystemPath", "")
    detail = f"{lifecycle}, {dra.get('FileSystemId', '')}:{path} <-> {dra.get('DataRepositoryPath', '')}"
    problems = []
    if lifecycle != "AVAILABLE":
        problems.append(f"lifecycle is {lifecycle}")
    if expected_path is not None and not _same_path(path, expected_path):
        problems.append(f"file system path is {path!r}, the stack expects {expected_path!r}")
    if expected_fs and dra.get("FileSystemId") != expected_fs:
        problems.append(f"on file system {dra.get('FileSystemId')}, the stack expects {expected_fs}")
    if problems:
        return Check("fsx-association", resource.physical_id, Status.FAIL, f"{detail}: {'; '.join(problems)}")
    return Check("fsx-association", resource.physical_id, Status.OK, detail)


def _same_path(actual: str, expected: str) -> bool:
    """Compare file system paths ignoring a trailing slash (``/datasets/`` is ``/datasets``)."""
    return (actual.rstrip("/") or "/") == (expected.rstrip("/") or "/")


# --- EFS -------------------------------------------------------------------------------------


def _efs_checks(aws: Aws, view: StackView, node_azs: set[str]) -> list[Check]:
    checks = []
    for resource in view.of_type("AWS::EFS::FileSystem"):
        fs_id = resource.physical_id
        try:
            targets = list(aws.paginate("efs", "describe_mount_targets", "MountTargets", FileSystemId=fs_id))
        except ClientError as exc:
            if not is_not_found(exc):
                raise
            checks.append(Check("efs-mount-targets", fs_id, Status.FAIL, "file system not found"))
            continue
        zone_of = _mount_target_zones(aws, targets)
        available = {zone_of[t["MountTargetId"]] for t in targets if t.get("LifeCycleState") == "available"}
        not_ready = sorted(
            f"{t['MountTargetId']} in {zone_of[t['MountTargetId']]} is {t.get('LifeCycleState')}"
            for t in targets
            if t.get("LifeCycleState") != "available"
        )
        missing = sorted(node_azs - available)
        problems = [f"no available mount target in {z}, where nodes run" for z in missing]
        if not targets:
            problems.append("no mount targets")
        summary = f"available in {', '.join(sorted(available)) or 'no zone'}"
        if not node_azs:
            summary += " (no node groups in the stack: node zones not checked)"
        if problems:
            checks.append(Check("efs-mount-targets", fs_id, Status.FAIL, "; ".join([*problems, *not_ready])))
        elif not_ready:
            checks.append(Check("efs-mount-targets", fs_id, Status.WARN, "; ".join([summary, *not_ready])))
        else:
            checks.append(Check("efs-mount-targets", fs_id, Status.OK, summary))
    return checks


def _mount_target_zones(aws: Aws, targets: list[dict[str, Any]]) -> dict[str, str]:
    zones = {t["MountTargetId"]: t["AvailabilityZoneName"] for t in targets if t.get("AvailabilityZoneName")}
    unknown = {t["SubnetId"] for t in targets if t["MountTargetId"] not in zones}
    if unknown:
        subnets = aws.client("ec2").describe_subnets(SubnetIds=sorted(unknown))["Subnets"]
        by_subnet = {s["SubnetId"]: s["AvailabilityZone"] for s in subnets}
        zones.update(
            {
                t["MountTargetId"]: by_subnet.get(t["SubnetId"], "?")
                for t in targets
                if t["MountTargetId"] not in zones
            }
        )
    return zones


# --- KMS -------------------------------------------------------------------------------------


def _kms_checks(aws: Aws, view: StackView) -> list[Check]:
    kms = aws.client("kms")
    checks = []
    for resource in view.of_type("AWS::KMS::Key"):
        key_id = resource.physical_id
        try:
            meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
        except ClientError as exc:
            if not is_not_found(exc):
                raise
            checks.append(Check("kms-key", key_id, Status.FAIL, "key not found"))
            continue
        state = meta.get("KeyState", "")
        problems = [] if state == "Enabled" else [f"key state is {state}"]
        rotation = "rotation n/a"
        if (
            meta.get("KeySpec", "SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT"
            and meta.get("Origin") != "EXTERNAL"
        ):
            enabled = kms.get_key_rotation_status(KeyId=key_id).get("KeyRotationEnabled", False)
            rotation = "rotation on" if enabled else "rotation off"
            if not enabled:
                problems.append("automatic key rotation is off")
        detail = f"{state}, {rotation}"
        checks.append(
            Check(
                "kms-key",
                key_id,
                Status.FAIL if problems else Status.OK,
                f"{detail}: {'; '.join(problems)}" if problems else detail,
            )
        )
    return checks


# --- AWS Backup ------------------------------------------------------------------------------


def _backup_checks(aws: Aws, view: StackView) -> list[Check]:
    backup = aws.client("backup")
    plans = view.of_type("AWS::Backup::BackupPlan")
    selections = view.of_type("AWS::Backup::BackupSelection")
    by_plan: dict[str, list[StackResource]] = defaultdict(list)
    for selection in selections:
        plan_id = view.resolve(view.properties(selection.logical_id).get("BackupPlanId"))
        if plan_id is None and len(plans) == 1:
            plan_id = plans[0].physical_id
        by_plan[plan_id or "?"].append(selection)

    checks = []
    for plan in plans:
        plan_id = plan.physical_id
        try:
            described = backup.get_backup_plan(BackupPlanId=plan_id)["BackupPlan"]
        except ClientError as exc:
            if not is_not_found(exc):
                raise
            checks.append(Check("backup-plan", plan_id, Status.FAIL, "backup plan not found"))
            continue
        found = list(
            aws.paginate("backup", "list_backup_selections", "BackupSelectionsList", BackupPlanId=plan_id)
        )
        name = described.get("BackupPlanName", "")
        rules = len(described.get("Rules", []))
        if not found:
            checks.append(
                Check(
                    "backup-plan", plan_id, Status.FAIL, f"plan {name} has no selections: it backs nothing up"
                )
            )
        else:
            checks.append(
                Check(
                    "backup-plan",
                    plan_id,
                    Status.OK,
                    f"plan {name}, {rules} rule(s), {len(found)} selection(s)",
                )
            )
        for selection in by_plan.get(plan_id, []):
            checks.append(_selection_check(view, selection, found, name))
    for selection in by_plan.get("?", []):
        checks.append(
            Check(
                "backup-selection", selection.logical_id, Status.WARN, "its backup plan is not in this stack"
            )
        )
    return checks


def _selection_check(
    view: StackView, selection: StackResource, found: list[dict[str, Any]], plan_name: str
) -> Check:
    spec = view.properties(selection.logical_id).get("BackupSelection", {})
    wanted_name = spec.get("SelectionName") if isinstance(spec, dict) else None
    for item in found:
        if item.get("SelectionId") and item["SelectionId"] in selection.physical_id:
            return Check(
                "backup-selection",
                item.get("SelectionName", item["SelectionId"]),
                Status.OK,
                f"in plan {plan_name}",
            )
        if wanted_name and item.get("SelectionName") == wanted_name:
            return Check("backup-selection", wanted_name, Status.OK, f"in plan {plan_name}")
    return Check(
        "backup-selection",
        wanted_name or selection.logical_id,
        Status.FAIL,
        f"not attached to plan {plan_name}",
    )

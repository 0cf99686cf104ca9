"""Mount authorization on the deployed reference platforms: every EFS class and volume mounts as its file-system
policy requires, with the identity the EFS CSI driver really uses, and every Lustre volume's clients and servers
admit each other both ways on 988 and 1018-1023."""

from __future__ import annotations

import pytest

from tests.platform.cfn_templates import PLATFORMS, REFERENCE_PLATFORMS, Platform
from tests.platform.k8s_model import ClusterModel
from tests.platform.mounts import (
    LUSTRE_PORTS,
    SecurityGroups,
    efs_effective_options,
    efs_mount,
)


@pytest.fixture(scope="module")
def model(reference) -> dict[str, ClusterModel]:
    """Each platform's cluster (cluster stack: volumes, classes, drivers) with its data stack (file systems)."""
    return {name: ClusterModel(reference.templates, p.cluster) for name, p in REFERENCE_PLATFORMS.items()}


def _efs_file_system(model: ClusterModel, platform: Platform, file_system_id: str) -> str:
    for s, lid in model.resources("AWS::EFS::FileSystem", platform.stacks):
        if model.ref(s, lid) == file_system_id:
            return model.arn(s, lid)
    raise AssertionError(f"{platform.name}: no EFS file system {file_system_id}")


def _access_point_arn(model: ClusterModel, platform: Platform, access_point_id: str) -> str:
    for s, lid in model.resources("AWS::EFS::AccessPoint", platform.stacks):
        if model.ref(s, lid) == access_point_id:
            return f"arn:aws:elasticfilesystem:{model.region}:{model.account}:access-point/{access_point_id}"
    raise AssertionError(f"{platform.name}: no access point {access_point_id}")


def _efs_volumes(model: ClusterModel):
    return [v for v in model.of_kind("PersistentVolume") if v["spec"]["csi"]["driver"] == "efs.csi.aws.com"]


@pytest.mark.parametrize("name", PLATFORMS)
def test_every_static_efs_volume_mounts_with_the_drivers_identity(model, name):
    m, platform = model[name], REFERENCE_PLATFORMS[name]
    stack = platform.cluster  # the EFS CSI driver's add-on and identity
    volumes = _efs_volumes(m)
    assert volumes
    for volume in volumes:
        spec = volume["spec"]
        handle = spec["csi"]["volumeHandle"]
        file_system_id, access_point_id = handle.split("::")
        options = efs_effective_options(
            spec.get("mountOptions", []), handle, spec["csi"].get("volumeAttributes", {})
        )
        fs_arn = _efs_file_system(m, platform, file_system_id)
        ap_arn = _access_point_arn(m, platform, access_point_id)
        write = spec["accessModes"] != ["ReadOnlyMany"]
        decision = efs_mount(m, stack, fs_arn, options, access_point_arn=ap_arn, write=write)
        assert decision, f"{name}/{volume['metadata']['name']} {sorted(options)}: {decision.reason}"
        # the same volume without iam is an anonymous client, which the file-system policy does not admit
        anonymous = efs_mount(m, stack, fs_arn, options - {"iam"}, access_point_arn=ap_arn, write=write)
        assert not anonymous, f"{name}/{volume['metadata']['name']} would mount anonymously"


def test_dynamic_efs_class_mounts_with_the_drivers_identity(model):
    m, platform = model["training"], REFERENCE_PLATFORMS["training"]
    classes = [c for c in m.of_kind("StorageClass") if c["provisioner"] == "efs.csi.aws.com"]
    assert classes
    for storage_class in classes:
        params = storage_class["parameters"]
        assert params["provisioningMode"] == "efs-ap"
        fs_arn = _efs_file_system(m, platform, params["fileSystemId"])
        # external-provisioner copies the class's mountOptions onto each volume; the driver adds tls and the
        # access point it created (any access point of the file system: the grant must not depend on which)
        options = efs_effective_options(
            storage_class.get("mountOptions", []), f"{params['fileSystemId']}::fsap-0123456789abcdef0", {}
        )
        ap_arn = f"arn:aws:elasticfilesystem:{m.region}:{m.account}:access-point/fsap-0123456789abcdef0"
        decision = efs_mount(m, platform.cluster, fs_arn, options, access_point_arn=ap_arn, write=True)
        assert decision, f"{storage_class['metadata']['name']} {sorted(options)}: {decision.reason}"


@pytest.mark.parametrize("name", PLATFORMS)
def test_lustre_clients_and_servers_admit_each_other_both_ways(model, name):
    m, platform = model[name], REFERENCE_PLATFORMS[name]
    cluster_sgs = [
        f"<{lid}.ClusterSecurityGroupId>" for _, lid in m.resources("AWS::EKS::Cluster", platform.stacks)
    ]
    groups = SecurityGroups(
        m, all_outbound=cluster_sgs
    )  # EKS creates its cluster group with all outbound open
    (node_group,) = cluster_sgs
    file_systems = m.resources("AWS::FSx::FileSystem", platform.stacks)
    lustre_volumes = [
        v for v in m.of_kind("PersistentVolume") if v["spec"]["csi"]["driver"] == "fsx.csi.aws.com"
    ]
    assert len(lustre_volumes) == len(file_systems)
    for s, lid in file_systems:
        (server,) = m._resolve(s, m._resources[(s, lid)].properties["SecurityGroupIds"])
        for port in LUSTRE_PORTS:
            assert groups.connects(node_group, server, port), f"{lid}: client -> server {port}"
            assert groups.connects(server, node_group, port), f"{lid}: server -> client {port}"
            assert groups.connects(server, server, port), f"{lid}: server -> server {port}"
        assert not groups.connects(node_group, server, 2049)  # and nothing else

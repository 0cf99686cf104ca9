"""LustreStore: template shape, gates (cfn-lint, cdk-nag, snapshot) and validation messages."""

from __future__ import annotations

from types import SimpleNamespace

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_fsx as fsx
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from eks_ai_data.bucket import DataBucket
from eks_ai_data.errors import EksAiDataValidationError
from eks_ai_data.keys import DataKeys
from eks_ai_data.lustre import DataRepositoryLink, LustreStore
from tests._gates import acknowledge_fixture_vpc, gate_problems, nag_synth, normalize_template

ENV = cdk.Environment(account="111111111111", region="us-east-1")
KEY_ARN = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _reference_app():
    app = cdk.App()
    stack = cdk.Stack(app, "LustreTest", env=ENV)
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=1)
    acknowledge_fixture_vpc(vpc)
    keys = DataKeys(stack, "Keys")
    nodes = ec2.SecurityGroup(stack, "Nodes", vpc=vpc)
    data = DataBucket(stack, "Datasets", encryption_key=keys.data_key)
    store = LustreStore(
        stack,
        "Lustre",
        vpc=vpc,
        subnet=vpc.private_subnets[1],
        node_security_groups=[nodes],
        kms_key=keys.data_key,
        storage_capacity_gib=2400,
        data_repositories=[DataRepositoryLink("/datasets/", data.bucket, prefix="train/")],
    )
    store.add_data_repository(
        DataRepositoryLink("/checkpoints/", data.bucket, prefix="ckpt/", auto_import=False, auto_export=True)
    )
    return app, stack, store, nodes, keys


def _user_app():
    """A company's own app: an existing VPC, key and bucket passed in."""
    app = cdk.App()
    stack = cdk.Stack(app, "UserLustre", env=ENV)
    vpc = ec2.Vpc.from_vpc_attributes(
        stack,
        "Vpc",
        vpc_id="vpc-0a1b2c3d4e5f60718",
        availability_zones=["us-east-1a", "us-east-1b"],
        private_subnet_ids=["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
    )
    key = kms.Key.from_key_arn(stack, "Key", KEY_ARN)
    bucket = s3.Bucket.from_bucket_name(stack, "Bucket", "acme-training-data")
    cluster_sg = ec2.SecurityGroup.from_security_group_id(stack, "ClusterSg", "sg-0123456789abcdef0")
    store = LustreStore(
        stack,
        "Lustre",
        vpc=vpc,
        subnet=vpc.private_subnets[1],
        node_security_groups=[cluster_sg],
        kms_key=key,
        per_unit_storage_throughput=1000,
        metadata_iops=6000,
        automatic_backup_retention=cdk.Duration.days(0),
        data_repositories=[DataRepositoryLink("/", bucket, imported_file_chunk_size_mib=2048)],
    )
    return app, stack, store


@pytest.fixture(scope="module")
def reference():
    app, stack, store, nodes, keys = _reference_app()
    result = nag_synth(app)
    return SimpleNamespace(
        result=result,
        template=result.template(stack.artifact_id),
        store=store,
        stack=stack,
        nodes=nodes,
        keys=keys,
    )


@pytest.fixture(scope="module")
def user():
    app, stack, store = _user_app()
    result = nag_synth(app)
    return SimpleNamespace(
        result=result, template=result.template(stack.artifact_id), store=store, stack=stack
    )


def _of_type(template, type_):
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def _sg_id(stack, construct):
    return stack.resolve(construct.security_group_id)


# -- gates ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["reference", "user"])
def test_gates(name, request):
    built = request.getfixturevalue(name)
    assert gate_problems(built.result, built.template) == []


@pytest.mark.parametrize("name", ["reference", "user"])
def test_snapshot(name, request, snapshot_json):
    assert normalize_template(request.getfixturevalue(name).template) == snapshot_json


# -- file system ---------------------------------------------------------------------------------------
def test_file_system_defaults(reference):
    template, store, stack = reference.template, reference.store, reference.stack
    (fs,) = _of_type(template, "AWS::FSx::FileSystem").values()
    props = fs["Properties"]
    assert fs["DeletionPolicy"] == fs["UpdateReplacePolicy"] == "Retain"
    config = props["LustreConfiguration"]
    assert config["DeploymentType"] == "PERSISTENT_2"
    assert config["PerUnitStorageThroughput"] == 250
    assert config["DataCompressionType"] == "LZ4"
    assert config["MetadataConfiguration"] == {"Mode": "AUTOMATIC"}
    # linked to S3: FSx does not back it up, so automatic backups are off (the bucket is the durable copy)
    assert config["AutomaticBackupRetentionDays"] == 0
    assert "DailyAutomaticBackupStartTime" not in config
    assert "CopyTagsToBackups" not in config
    assert store.automatic_backup_retention_days == 0
    assert config["WeeklyMaintenanceStartTime"] == "7:02:00"
    assert props["FileSystemTypeVersion"] == "2.15"
    assert props["StorageType"] == "SSD"
    assert props["StorageCapacity"] == 2400
    assert props["KmsKeyId"] == stack.resolve(reference.keys.data_key.key_id)
    assert props["SubnetIds"] == [stack.resolve(store.subnet.subnet_id)]
    assert stack.resolve(store.availability_zone) == store.subnet.availability_zone


def test_exposed_attributes(reference):
    store, stack = reference.store, reference.stack
    fs_ref = {"Ref": stack.resolve(store.file_system.node.default_child.logical_id)}
    assert stack.resolve(store.file_system_id) == fs_ref
    assert stack.resolve(store.file_system_arn) == {
        "Fn::Join": [
            "",
            ["arn:", {"Ref": "AWS::Partition"}, ":fsx:us-east-1:111111111111:file-system/", fs_ref],
        ]
    }
    assert stack.resolve(store.mount_name)["Fn::GetAtt"][1] == "LustreMountName"
    assert "fsx.us-east-1" in str(stack.resolve(store.dns_name))
    assert len(store.associations) == 2
    assert store.connections.security_groups == [store.security_group]


def test_user_app_options(user):
    template, store = user.template, user.store
    (fs,) = _of_type(template, "AWS::FSx::FileSystem").values()
    config = fs["Properties"]["LustreConfiguration"]
    assert config["MetadataConfiguration"] == {"Mode": "USER_PROVISIONED", "Iops": 6000}
    assert config["PerUnitStorageThroughput"] == 1000
    assert config["AutomaticBackupRetentionDays"] == 0
    assert "DailyAutomaticBackupStartTime" not in config
    assert fs["Properties"]["SubnetIds"] == ["subnet-0bbbbbbbbbbbbbbb2"]
    assert fs["Properties"]["KmsKeyId"] == "1234abcd-12ab-34cd-56ef-1234567890ab"
    assert store.availability_zone == "us-east-1b"
    (dra,) = _of_type(template, "AWS::FSx::DataRepositoryAssociation").values()
    assert dra["Properties"]["DataRepositoryPath"] == "s3://acme-training-data"
    assert dra["Properties"]["FileSystemPath"] == "/"
    assert dra["Properties"]["ImportedFileChunkSize"] == 2048


# -- security group ------------------------------------------------------------------------------------
def _rules(template, type_, group_id):
    return [
        r["Properties"] for r in _of_type(template, type_).values() if r["Properties"]["GroupId"] == group_id
    ]


@pytest.mark.parametrize("name", ["reference", "user"])
def test_security_group_allows_exactly_lustre_ports(name, request):
    built = request.getfixturevalue(name)
    template, store, stack = built.template, built.store, built.stack
    own = _sg_id(stack, store.security_group)
    (group,) = [
        g
        for k, g in _of_type(template, "AWS::EC2::SecurityGroup").items()
        if k.startswith("LustreSecurityGroup")
    ]
    assert "SecurityGroupIngress" not in group["Properties"]
    assert "SecurityGroupEgress" not in group["Properties"]  # no allow-all outbound
    ingress = _rules(template, "AWS::EC2::SecurityGroupIngress", own)
    egress = _rules(template, "AWS::EC2::SecurityGroupEgress", own)
    ports = {(r["IpProtocol"], r["FromPort"], r["ToPort"]) for r in ingress + egress}
    assert ports == {("tcp", 988, 988), ("tcp", 1018, 1023)}
    sources = {str(r["SourceSecurityGroupId"]) for r in ingress}
    destinations = {str(r["DestinationSecurityGroupId"]) for r in egress}
    node_sources = sources - {str(own)}
    assert len(node_sources) == 1 and str(own) in sources
    assert destinations == sources  # servers talk to themselves and to the clients, nothing else
    assert len(ingress) == len(egress) == 4


def test_node_security_group_admits_file_servers(reference):
    template, store, stack, nodes = reference.template, reference.store, reference.stack, reference.nodes
    node_rules = _rules(template, "AWS::EC2::SecurityGroupIngress", _sg_id(stack, nodes))
    assert {(r["FromPort"], r["ToPort"]) for r in node_rules} == {(988, 988), (1018, 1023)}
    assert all(r["SourceSecurityGroupId"] == _sg_id(stack, store.security_group) for r in node_rules)


# -- data repository associations ----------------------------------------------------------------------
def test_associations(reference):
    template, store, stack = reference.template, reference.store, reference.stack
    dras = {
        d["Properties"]["FileSystemPath"]: d["Properties"]
        for d in _of_type(template, "AWS::FSx::DataRepositoryAssociation").values()
    }
    assert set(dras) == {"/datasets/", "/checkpoints/"}
    datasets, checkpoints = dras["/datasets/"], dras["/checkpoints/"]
    assert datasets["S3"] == {"AutoImportPolicy": {"Events": ["NEW", "CHANGED", "DELETED"]}}
    # a file removed on Lustre is not deleted in S3 unless auto_export_deletes is asked for
    assert checkpoints["S3"] == {"AutoExportPolicy": {"Events": ["NEW", "CHANGED"]}}
    assert datasets["BatchImportMetaDataOnCreate"] is True
    assert datasets["ImportedFileChunkSize"] == 1024
    assert datasets["DataRepositoryPath"]["Fn::Join"][1][-1] == "/train/"
    fs_ref = {"Ref": stack.resolve(store.file_system.node.default_child.logical_id)}
    assert all(d["FileSystemId"] == fs_ref for d in dras.values())


def test_bucket_key_allows_fsx_service_linked_role(reference):
    template = reference.template
    statements = [
        s
        for key in _of_type(template, "AWS::KMS::Key").values()
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s.get("Sid") == "AllowFsxLustreDataRepositoriesThroughS3"
    ]
    assert len(statements) == 1
    (statement,) = statements
    assert statement["Condition"]["StringEquals"] == {
        "kms:CallerAccount": "111111111111",
        "kms:ViaService": "s3.us-east-1.amazonaws.com",
    }
    role = statement["Condition"]["ArnLike"]["aws:PrincipalArn"]["Fn::Join"][1][-1]
    assert role.endswith(
        ":role/aws-service-role/s3.data-source.lustre.fsx.amazonaws.com/AWSServiceRoleForFSxS3Access_fs-*"
    )


def test_imported_bucket_key_gets_a_warning():
    stack = cdk.Stack(env=ENV)
    vpc = _imported_vpc(stack)
    key = kms.Key.from_key_arn(stack, "K", KEY_ARN)
    bucket = s3.Bucket.from_bucket_attributes(stack, "B", bucket_name="acme-data", encryption_key=key)
    store = LustreStore(
        stack, "L", vpc=vpc, subnet=vpc.private_subnets[0], node_security_groups=[], kms_key=key
    )
    store.add_data_repository(DataRepositoryLink("/d/", bucket))
    warnings = [m.data for m in store.node.metadata if m.type == "aws:cdk:warning"]
    assert any("AWSServiceRoleForFSxS3Access_fs-*" in str(w) for w in warnings)


# -- validation ----------------------------------------------------------------------------------------
def _imported_vpc(stack, id="Vpc"):
    return ec2.Vpc.from_vpc_attributes(
        stack,
        id,
        vpc_id="vpc-0a1b2c3d4e5f60718",
        availability_zones=["us-east-1a"],
        private_subnet_ids=["subnet-0aaaaaaaaaaaaaaa1"],
    )


def _build(**overrides):
    stack = cdk.Stack(env=ENV)
    vpc = _imported_vpc(stack)
    key = kms.Key.from_key_arn(stack, "Key", KEY_ARN)
    props = {"vpc": vpc, "subnet": vpc.private_subnets[0], "node_security_groups": [], "kms_key": key}
    bucket = s3.Bucket.from_bucket_name(stack, "Bucket", "acme-data")
    links = overrides.pop("links", None)
    props.update(overrides)
    store = LustreStore(stack, "Lustre", **props)
    for link in links(bucket) if links else ():
        store.add_data_repository(link)
    return store


BAD_INPUTS = [
    (
        {"storage_capacity_gib": 3600},
        r"Lustre: invalid storage_capacity_gib=3600: must be 1200, 2400, or a multiple of 2400",
    ),
    (
        {"per_unit_storage_throughput": 200},
        r"invalid per_unit_storage_throughput=200: PERSISTENT_2 SSD allows 125, 250, 500, 1000",
    ),
    (
        {
            "deployment_type": fsx.LustreDeploymentType.SCRATCH_1,
            "storage_capacity_gib": 4800,
            "kms_key": None,
        },
        r"storage_capacity_gib=4800: must be 1200, 2400, or a multiple of 3600 GiB for SCRATCH_1",
    ),
    (
        {
            "deployment_type": fsx.LustreDeploymentType.PERSISTENT_1,
            "storage_type": fsx.StorageType.HDD,
            "per_unit_storage_throughput": 12,
            "storage_capacity_gib": 1800,
        },
        r"storage_capacity_gib=1800: must be a multiple of 6000 GiB for PERSISTENT_1 HDD at 12",
    ),
    ({"storage_type": fsx.StorageType.HDD}, r"invalid storage_type='HDD': PERSISTENT_2 supports SSD"),
    (
        {
            "deployment_type": fsx.LustreDeploymentType.SCRATCH_2,
            "kms_key": None,
            "per_unit_storage_throughput": 200,
        },
        r"per_unit_storage_throughput=200: SCRATCH_2 takes none",
    ),
    (
        {
            "deployment_type": fsx.LustreDeploymentType.SCRATCH_2,
            "kms_key": None,
            "automatic_backup_retention": cdk.Duration.days(3),
        },
        r"automatic_backup_retention='3 days': scratch file systems have no backups",
    ),
    (
        {"automatic_backup_retention": cdk.Duration.days(91)},
        r"automatic_backup_retention='91 days': must be 0 \(off\) to 90 days",
    ),
    (
        {
            "automatic_backup_retention": cdk.Duration.days(0),
            "daily_automatic_backup_start_time": fsx.DailyAutomaticBackupStartTime(hour=1, minute=0),
        },
        r"daily_automatic_backup_start_time='01:00': needs automatic backups",
    ),
    ({"kms_key": None}, r"invalid kms_key=None: persistent file systems need a customer-managed key"),
    (
        {"metadata_iops": 4500},
        r"invalid metadata_iops=4500: must be 1500, 3000, 6000, 12000, or a multiple of 12000",
    ),
    (
        {"file_system_type_version": fsx.FileSystemTypeVersion.V_2_12, "metadata_iops": 3000},
        r"metadata_iops=3000: metadata configuration needs PERSISTENT_2 with Lustre 2.15",
    ),
    (
        {"file_system_type_version": fsx.FileSystemTypeVersion.V_2_10},
        r"file_system_type_version='2.10': PERSISTENT_2 needs Lustre 2.12 or 2.15",
    ),
    # data repository associations
    (
        {
            "deployment_type": fsx.LustreDeploymentType.SCRATCH_1,
            "kms_key": None,
            "links": lambda b: [DataRepositoryLink("/d/", b)],
        },
        r"data_repositories='/d/': data repository associations need Lustre 2.12 or 2.15 and a deployment type "
        r"other than SCRATCH_1 \(this file system: SCRATCH_1, Lustre 2.15\)",
    ),
    (
        {
            "deployment_type": fsx.LustreDeploymentType.PERSISTENT_1,
            "file_system_type_version": fsx.FileSystemTypeVersion.V_2_10,
            "links": lambda b: [DataRepositoryLink("/d/", b)],
        },
        r"data repository associations need Lustre 2.12 or 2.15 .* \(this file system: PERSISTENT_1, Lustre 2.10\)",
    ),
    (
        {"links": lambda b: [DataRepositoryLink("data/", b)]},
        r"data_repositories='data/': file_system_path must be absolute",
    ),
    (
        {"links": lambda b: [DataRepositoryLink("/a/../b/", b)]},
        r"file_system_path must be absolute \('/name/'\), without",
    ),
    (
        {
            "links": lambda b: [
                DataRepositoryLink("/data/", b, prefix="x/"),
                DataRepositoryLink("/data/sub/", b, prefix="y/"),
            ]
        },
        r"data_repositories='/data/sub/': file-system paths must not overlap \(already linked: /data/\)",
    ),
    (
        {
            "links": lambda b: [
                DataRepositoryLink("/a/", b, prefix="x/"),
                DataRepositoryLink("/b/", b, prefix="x/y/"),
            ]
        },
        r"data_repositories='s3://acme-data/x/y/': S3 paths of associations must not overlap",
    ),
    (
        {
            "links": lambda b: [
                DataRepositoryLink("/", b, prefix="x/"),
                DataRepositoryLink("/b/", b, prefix="y/"),
            ]
        },
        r"'/' as file_system_path allows only one association",
    ),
    (
        {"links": lambda b: [DataRepositoryLink("/a/", b, prefix="train")]},
        r"data_repositories='train': prefix must be '' or 'a/b/'",
    ),
    ({"links": lambda b: [DataRepositoryLink("/a/", b, prefix="/train/")]}, r"prefix must be '' or 'a/b/'"),
    (
        {
            "links": lambda b: [
                DataRepositoryLink("/a/", s3.Bucket.from_bucket_name(b.stack, "Bad", "Bad_Bucket"))
            ]
        },
        r"data_repositories='Bad_Bucket': bucket name must be 3-63 lowercase letters",
    ),
    (
        {"links": lambda b: [DataRepositoryLink("/a\n/", b)]},
        r"file_system_path must not contain NUL, line breaks or U\+0085/U\+2028/U\+2029",
    ),
    (
        {"links": lambda b: [DataRepositoryLink("/a/", b, prefix="p\u2028/")]},
        r"prefix must not contain NUL, line breaks",
    ),
    (
        {"automatic_backup_retention": cdk.Duration.hours(36)},
        r"automatic_backup_retention='36 hours': must be a whole number of days",
    ),
    (
        {"links": lambda b: [DataRepositoryLink("/a/", b, imported_file_chunk_size_mib=600_000)]},
        r"data_repositories=600000: imported_file_chunk_size_mib must be 1 to 512000",
    ),
    (
        {"links": lambda b: [DataRepositoryLink(f"/d{i}/", b, prefix=f"p{i}/") for i in range(9)]},
        r"data_repositories='/d8/': a file system has at most 8 data repository associations",
    ),
]


@pytest.mark.parametrize(("overrides", "match"), BAD_INPUTS)
def test_rejects_bad_input(overrides, match):
    with pytest.raises(EksAiDataValidationError, match=match):
        _build(**overrides)


def test_tokens_skip_name_checks():
    stack = cdk.Stack(env=ENV)
    vpc = _imported_vpc(stack)
    key = kms.Key.from_key_arn(stack, "Key", KEY_ARN)
    token_bucket = s3.Bucket.from_bucket_name(stack, "B", cdk.Fn.import_value("DataBucketName"))
    store = LustreStore(
        stack, "L", vpc=vpc, subnet=vpc.private_subnets[0], node_security_groups=[], kms_key=key
    )
    store.add_data_repository(DataRepositoryLink("/d/", token_bucket, prefix="p/"))
    assert len(store.associations) == 1


def _fs_props(store):
    template = Template.from_stack(cdk.Stack.of(store)).to_json()
    (props,) = [
        r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::FSx::FileSystem"
    ]
    return props


def test_unlinked_persistent_file_system_keeps_daily_backups_for_a_week():
    config = _fs_props(_build())["LustreConfiguration"]
    assert config["AutomaticBackupRetentionDays"] == 7
    assert config["DailyAutomaticBackupStartTime"] == "05:00"
    assert config["CopyTagsToBackups"] is True


def test_linking_later_turns_default_backups_off():
    store = _build(links=lambda b: [DataRepositoryLink("/d/", b, prefix="p/")])
    config = _fs_props(store)["LustreConfiguration"]
    assert config["AutomaticBackupRetentionDays"] == 0
    assert "DailyAutomaticBackupStartTime" not in config
    assert store.automatic_backup_retention_days == 0


@pytest.mark.parametrize("at_construction", [True, False])
def test_explicit_backups_on_a_linked_file_system_are_refused(at_construction):
    match = (
        r"automatic_backup_retention='7 days': must be 0 days on a file system with data repository "
        r"associations: FSx does not back up file systems linked to S3"
    )
    with pytest.raises(EksAiDataValidationError, match=match):
        if at_construction:
            stack = cdk.Stack(env=ENV)
            vpc = _imported_vpc(stack)
            LustreStore(
                stack,
                "Lustre",
                vpc=vpc,
                subnet=vpc.private_subnets[0],
                node_security_groups=[],
                kms_key=kms.Key.from_key_arn(stack, "Key", KEY_ARN),
                automatic_backup_retention=cdk.Duration.days(7),
                data_repositories=[
                    DataRepositoryLink("/d/", s3.Bucket.from_bucket_name(stack, "B", "acme-data"))
                ],
            )
        else:
            _build(
                automatic_backup_retention=cdk.Duration.days(7),
                links=lambda b: [DataRepositoryLink("/d/", b, prefix="p/")],
            )


@pytest.mark.parametrize(
    "deployment",
    [
        fsx.LustreDeploymentType.PERSISTENT_1,
        fsx.LustreDeploymentType.SCRATCH_2,
        fsx.LustreDeploymentType.PERSISTENT_2,
    ],
)
def test_associations_on_every_deployment_type_fsx_supports_them_on(deployment):
    scratch = deployment.value.startswith("SCRATCH")
    store = _build(
        deployment_type=deployment,
        kms_key=None if scratch else kms.Key.from_key_arn(cdk.Stack(env=ENV), "K", KEY_ARN),
        per_unit_storage_throughput=None if scratch else (200 if deployment.value == "PERSISTENT_1" else 250),
        links=lambda b: [DataRepositoryLink("/d/", b, prefix="p/")],
    )
    assert len(store.associations) == 1


def test_export_of_deletions_is_opt_in():
    store = _build(
        links=lambda b: [
            DataRepositoryLink("/c/", b, prefix="c/", auto_export=True, auto_export_deletes=True),
        ]
    )
    template = Template.from_stack(cdk.Stack.of(store)).to_json()
    (dra,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::FSx::DataRepositoryAssociation"]
    assert dra["Properties"]["S3"]["AutoExportPolicy"] == {"Events": ["NEW", "CHANGED", "DELETED"]}
    with pytest.raises(EksAiDataValidationError, match=r"auto_export_deletes needs auto_export=True"):
        _build(links=lambda b: [DataRepositoryLink("/c/", b, prefix="c/", auto_export_deletes=True)])


def test_retained_file_system_keeps_its_security_group_subnet_and_vpc(reference):
    """cdk destroy: a retained file system's network interfaces stay, so what they sit in must stay too."""
    template, store, stack = reference.template, reference.store, reference.stack
    resources = template["Resources"]
    sg_id = stack.resolve(store.security_group.node.default_child.logical_id)
    subnet_id = stack.resolve(store.subnet.node.default_child.logical_id)
    vpc_ids = [k for k, v in resources.items() if v["Type"] == "AWS::EC2::VPC"]
    for logical_id in (sg_id, subnet_id, *vpc_ids):
        assert resources[logical_id]["DeletionPolicy"] == "Retain", logical_id
    # the other subnets hold no file-system interfaces and are deleted with the stack
    others = [k for k, v in resources.items() if v["Type"] == "AWS::EC2::Subnet" and k != subnet_id]
    assert others and all("DeletionPolicy" not in resources[k] for k in others)
    # rules that name client groups are separate resources, deleted with the stack (a retained group keeping a
    # rule that names the EKS cluster security group would stop EKS deleting that group)
    group = resources[sg_id]["Properties"]
    assert "SecurityGroupIngress" not in group and "SecurityGroupEgress" not in group


def test_store_is_connectable_through_aws_cdk_lib():
    store = _build()
    stack = cdk.Stack.of(store)
    peer = ec2.SecurityGroup(stack, "Peer", vpc=_imported_vpc(stack, "Vpc2"))
    peer.connections.allow_to(store, ec2.Port.tcp(988), "Lustre")  # crashed inside jsii when not IConnectable
    template = Template.from_stack(stack).to_json()
    ingress = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::EC2::SecurityGroupIngress" and r["Properties"].get("FromPort") == 988
    ]
    assert {"GroupId": stack.resolve(store.security_group.security_group_id)}.items() <= ingress[0].items()
    assert store.connections.default_port.to_string() == "988"


def test_clients_in_another_stack_get_their_rules_there_without_a_cycle():
    app = cdk.App()
    data = cdk.Stack(app, "Data", env=ENV)
    vpc = _imported_vpc(data)
    store = LustreStore(
        data,
        "Lustre",
        vpc=vpc,
        subnet=vpc.private_subnets[0],
        node_security_groups=[],
        kms_key=kms.Key.from_key_arn(data, "Key", KEY_ARN),
    )
    compute = cdk.Stack(app, "Compute", env=ENV)
    nodes = ec2.SecurityGroup(compute, "Nodes", vpc=_imported_vpc(compute))
    rules = store.allow_clients(nodes)
    assert len(rules) == 8 and all(cdk.Stack.of(r) is compute for r in rules)
    assert store.allow_clients(nodes) == rules  # admitting again reuses the rules
    assembly = app.synth()  # a data -> compute reference as well would be a DependencyCycle
    stacks = {"Data", "Compute"}
    assert [d.id for d in assembly.get_stack_by_name("Compute").dependencies if d.id in stacks] == ["Data"]
    assert not [d.id for d in assembly.get_stack_by_name("Data").dependencies if d.id in stacks]


def test_scratch_has_no_backups_key_or_metadata():
    store = _build(deployment_type=fsx.LustreDeploymentType.SCRATCH_2, kms_key=None)
    template = Template.from_stack(cdk.Stack.of(store)).to_json()
    (props,) = [
        r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::FSx::FileSystem"
    ]
    assert "KmsKeyId" not in props
    assert "AutomaticBackupRetentionDays" not in props["LustreConfiguration"]
    assert "MetadataConfiguration" not in props["LustreConfiguration"]
    assert store.per_unit_storage_throughput is None

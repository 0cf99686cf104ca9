"""Data in one stack, clusters in others: client rules on the consuming side, keyed and named so that clusters
from the same code stay two clients; cdk-nag acknowledgments that hold across stacks (strong and weak
references); patterns that use a data stack's stores without changing them."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs

from eks_ai_data import (
    AiCluster,
    ClusterNetwork,
    ClusterStorage,
    DataBucket,
    DataKeys,
    DataRepositoryLink,
    EksAiDataValidationError,
    LustreStore,
    ModelRepository,
    NvmeNodeGroup,
    SharedEfs,
    TrainingCheckpoints,
    WorkloadIdentity,
    ZonalStack,
)
from eks_ai_data._nag import nag_flatten
from tests._gates import acknowledge_fixture, nag_synth

ENV = cdk.Environment(account="111122223333", region="us-east-1")
WEAK = {"@aws-cdk/core:defaultCrossStackReferences": "weak"}
STRONG = {"@aws-cdk/core:defaultCrossStackReferences": "strong"}


class _Data(ZonalStack):
    def __init__(self, scope, id):
        super().__init__(scope, id, env=ENV, availability_zones=["us-east-1a", "us-east-1b"])
        self.keys = DataKeys(self, "Keys")
        self.network = ClusterNetwork(
            self, "Network", logs_key=self.keys.data_key, availability_zones=["us-east-1a", "us-east-1b"]
        )
        vpc = self.network.vpc
        self.bucket = DataBucket(self, "Datasets", encryption_key=self.keys.data_key)
        self.checkpoints = DataBucket(self, "Checkpoints", encryption_key=self.keys.data_key)
        self.lustre = LustreStore(
            self,
            "Lustre",
            vpc=vpc,
            subnet=vpc.private_subnets[0],
            node_security_groups=[],
            kms_key=self.keys.data_key,
            data_repositories=[
                DataRepositoryLink(file_system_path="/datasets", bucket=self.bucket.bucket),
                DataRepositoryLink(
                    file_system_path="/checkpoints",
                    bucket=self.checkpoints.bucket,
                    prefix="ckpt/",
                    auto_export=True,
                ),
            ],
        )
        self.efs = SharedEfs(self, "Efs", vpc=vpc, node_security_groups=[], kms_key=self.keys.data_key)
        acknowledge_fixture(
            self.efs, "the cross-stack test's file system, in no DataBackupPlan", "EFSInBackupPlan"
        )
        self.access_point = self.efs.add_access_point("models", path="/models", uid=1000, gid=1000)


def _cluster_stack(app, id, data: _Data, context=None):
    stack = cdk.Stack(app, id, env=ENV)
    for key, value in (context or {}).items():
        stack.node.set_context(key, value)
    platform = AiCluster(stack, "Platform", vpc=data.network.vpc, keys=data.keys)
    return stack, platform


def _app(outdir, clusters=("Blue",), context=None):
    app = cdk.App(outdir=str(outdir))
    data = _Data(app, "Data")
    stacks = {}
    for name in clusters:
        stack, platform = _cluster_stack(app, name, data, context)
        # the documented ways: the store's and the file system's allow_clients, with the default home
        data.lustre.allow_clients(platform.node_security_group)
        data.efs.allow_clients(platform.node_security_group)
        reader = WorkloadIdentity(
            stack, "Reader", cluster=platform.cluster, namespace="ml", service_account="r"
        )
        reader.read_prefix(data.bucket.bucket, "datasets")
        stacks[name] = stack
    return app, data, stacks


def _rules(template):
    return {
        k: v["Properties"]
        for k, v in template["Resources"].items()
        if v["Type"] in ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress")
    }


@pytest.fixture(scope="module")
def blue_green(tmp_path_factory):
    app, _, _ = _app(tmp_path_factory.mktemp("xs"), clusters=("Blue", "Green"))
    result = nag_synth(app)
    return result, {name: result.template(name) for name in ("Data", "Blue", "Green")}


def test_no_cycle_and_every_rule_lives_in_its_clusters_stack(blue_green):
    result, templates = blue_green
    assert [str(f) for f in result.findings] == []  # the readers' IAM5 on another stack's bucket acknowledged
    data_rules = _rules(templates["Data"])
    # only the Lustre servers' own traffic (and EFS's no-egress placeholder) stays in the data stack
    assert {r["Description"] for r in data_rules.values()} == {
        "Lustre between file servers",
        "Disallow all traffic",
    }
    for name in ("Blue", "Green"):
        rules = _rules(templates[name])
        cluster = next(k for k, v in templates[name]["Resources"].items() if v["Type"] == "AWS::EKS::Cluster")
        own = {"Fn::GetAtt": [cluster, "ClusterSecurityGroupId"]}
        text = json.dumps(rules)
        assert json.dumps(own) in text and "Fn::ImportValue" in text
        # Lustre: 2 port ranges x 4 rules; EFS: 1
        assert len(rules) == 9, name


def test_equal_logical_ids_in_two_cluster_stacks_are_two_clients(blue_green):
    _, templates = blue_green
    assert sorted(_rules(templates["Blue"])) == sorted(_rules(templates["Green"]))  # same code, same ids


def test_rule_ids_do_not_depend_on_the_order_of_admission(tmp_path):
    _, _, alone = _app(tmp_path / "a", clusters=("Green",))
    _, _, both = _app(tmp_path / "b", clusters=("Blue", "Green"))
    ids = [sorted(_rules(cdk.assertions.Template.from_stack(s["Green"]).to_json())) for s in (alone, both)]
    assert ids[0] == ids[1]


def test_acknowledgments_hold_under_weak_references(tmp_path):
    app, _, _ = _app(tmp_path, clusters=("Blue",), context=WEAK)
    result = nag_synth(app)
    assert [str(f) for f in result.findings] == []
    assert "Fn::GetStackOutput" in json.dumps(result.template("Blue"))


def test_nag_flatten_spells_references_as_cdk_nag_does():
    assert (
        nag_flatten({"Fn::Join": ["", [{"Fn::ImportValue": "Data:Export1"}, "/p/*"]]}) == "Data:Export1/p/*"
    )
    weak = {"Fn::GetStackOutput": {"StackName": "Data", "OutputName": "Out1"}}
    assert nag_flatten(weak) == '{"Fn::GetStackOutput":{"StackName":"Data","OutputName":"Out1"}}'
    assert nag_flatten({"Fn::GetAtt": ["B1", "Arn"]}) == "<B1.Arn>"
    assert nag_flatten("arn:${AWS::Partition}:s3:::b") == "arn:<AWS::Partition>:s3:::b"


# -- patterns on a data stack's stores ---------------------------------------------------------------------


@pytest.fixture
def split():
    app = cdk.App()
    data = _Data(app, "Data")
    stack, platform = _cluster_stack(app, "Blue", data)
    storage = ClusterStorage(stack, "InCluster", cluster=platform, shared_efs=[data.efs], namespaces=["ml"])
    return data, stack, platform, storage


def test_model_repository_on_an_existing_access_point_creates_nothing_on_the_file_system(split):
    data, stack, platform, storage = split
    before = len(data.efs.access_points)
    repo = ModelRepository(
        stack,
        "Models",
        cluster=platform,
        storage=storage,
        namespace="ml",
        efs=data.efs,
        access_point=data.access_point,
        model_bucket=data.bucket.bucket,
    )
    assert repo.access_point is data.access_point and len(data.efs.access_points) == before
    assert all(cdk.Stack.of(rule).stack_name == "Blue" for rule in repo.client_rules)


def test_model_repository_on_an_existing_lustre_store(split):
    data, stack, platform, storage = split
    repo = ModelRepository(
        stack,
        "Models",
        cluster=platform,
        storage=storage,
        namespace="ml",
        cache="lustre",
        lustre=data.lustre,
        model_bucket=data.bucket.bucket,
    )
    assert repo.lustre is data.lustre
    assert all(cdk.Stack.of(rule).stack_name == "Blue" for rule in repo.client_rules)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"access_point": "ap"}, r"invalid access_point=.*names an access point of an existing file system"),
        ({"cache": "lustre", "lustre": "store"}, r"invalid model_bucket=None: is required with lustre="),
        ({"lustre": "store"}, r"invalid lustre=.*is only used with cache='lustre'"),
    ],
)
def test_model_repository_refuses_mismatched_existing_stores(split, props, message):
    data, stack, platform, storage = split
    given = {
        key: {"ap": data.access_point, "store": data.lustre}.get(value, value) for key, value in props.items()
    }
    with pytest.raises(EksAiDataValidationError, match=message):
        ModelRepository(stack, "Models", cluster=platform, storage=storage, namespace="ml", **given)


def test_training_checkpoints_use_the_stores_export_link_and_leave_the_data_stack_alone(split):
    data, stack, platform, storage = split
    nvme = NvmeNodeGroup(stack, "Nvme", cluster=platform, instance_types=["i4i.8xlarge"], mode="ephemeral")
    links = len(data.lustre.links)
    TrainingCheckpoints(
        stack,
        "Checkpoints",
        cluster=platform,
        storage=storage,
        namespace="ml",
        scratch_node_groups=[nvme],
        lustre=data.lustre,
        checkpoint_bucket=data.checkpoints.bucket,
        prefix="ckpt",
        lifecycle=False,
    )
    assert len(data.lustre.links) == links


def test_training_checkpoints_refuse_a_link_that_exports_elsewhere_or_another_stacks_lifecycle(split):
    data, stack, platform, storage = split
    nvme = NvmeNodeGroup(stack, "Nvme", cluster=platform, instance_types=["i4i.8xlarge"], mode="ephemeral")
    common = {"cluster": platform, "storage": storage, "namespace": "ml", "scratch_node_groups": [nvme]}
    with pytest.raises(
        EksAiDataValidationError, match=r"links /checkpoints already, but not as an export to"
    ):
        TrainingCheckpoints(
            stack,
            "A",
            **common,
            lustre=data.lustre,
            checkpoint_bucket=data.checkpoints.bucket,
            lifecycle=False,
        )
    with pytest.raises(
        EksAiDataValidationError,
        match=r"invalid lifecycle=True: cannot add the expiry rule to Data/Checkpoints/Bucket: it belongs to "
        r"another stack",
    ):
        TrainingCheckpoints(
            stack, "B", **common, sync="writer-identity", checkpoint_bucket=data.checkpoints.bucket
        )


def test_an_efs_access_point_from_the_data_stack_is_an_efs_access_point(split):
    data, *_ = split
    assert isinstance(data.access_point, efs.AccessPoint)
    assert isinstance(data.network.vpc, ec2.Vpc)

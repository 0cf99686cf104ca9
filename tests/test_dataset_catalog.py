"""DatasetCatalog: the Glue database, one crawler per dataset prefix with its own least-privilege role and encrypted
log group, the security configuration, the training identities' read grants, and Lake Formation registration."""

from __future__ import annotations

import json
import re

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from eks_ai_data.bucket import DataBucket
from eks_ai_data.errors import EksAiDataValidationError
from eks_ai_data.governance import DatasetCatalog, DatasetSpec
from eks_ai_data.keys import DataKeys
from stacks import INFERENCE_DATA_STACK, INFERENCE_STACK, TRAINING_DATA_STACK, TRAINING_STACK
from tests._gates import acknowledge_fixture, cfn_lint_errors, nag_synth

#: Each platform's (data stack, cluster stack): the catalog is data (data stack), its readers run in the cluster.
PLATFORMS = {
    "training": (TRAINING_DATA_STACK, TRAINING_STACK),
    "inference": (INFERENCE_DATA_STACK, INFERENCE_STACK),
}
DATA_KEY = {"Fn::GetAtt": ["KeysDataKey8F3FE3A4", "Arn"]}


def _of(template: dict, type_: str) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def _join(value: object) -> str:
    """A Fn::Join rendered with <LogicalId> for Refs and <LogicalId.Attr> for GetAtts."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return f"<{value['Ref']}>"
    if "Fn::GetAtt" in value:
        return f"<{'.'.join(value['Fn::GetAtt'])}>"
    sep, parts = value["Fn::Join"]
    return sep.join(_join(p) for p in parts)


def _statements(template: dict, role: str) -> list[dict]:
    return [
        s
        for p in _of(template, "AWS::IAM::Policy").values()
        if {"Ref": role} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]


def _resources(statement: dict) -> list[str]:
    found = statement["Resource"]
    return [_join(r) for r in (found if isinstance(found, list) else [found])]


def _actions(statement: dict) -> list[str]:
    found = statement["Action"]
    return found if isinstance(found, list) else [found]


@pytest.mark.parametrize(
    ("platform", "dataset", "bucket"),
    [("training", "datasets", "DatasetBucket"), ("inference", "models", "ModelsBucket")],
)
def test_each_reference_platform_catalogs_its_dataset_prefix_with_a_scheduled_encrypted_crawler(
    reference, platform, dataset, bucket
):
    data, cluster = PLATFORMS[platform]
    template = reference.template(data)
    # the catalog outlives clusters: nothing of it in the cluster stack
    for type_ in ("AWS::Glue::Database", "AWS::Glue::Crawler", "AWS::Glue::SecurityConfiguration"):
        assert not _of(reference.template(cluster), type_), type_
    (database,) = _of(template, "AWS::Glue::Database").values()
    name = database["Properties"]["DatabaseInput"]["Name"]
    assert re.fullmatch(r"[a-z0-9_]{1,255}", name)
    (config,) = _of(template, "AWS::Glue::SecurityConfiguration").values()
    encryption = config["Properties"]["EncryptionConfiguration"]
    assert encryption["CloudWatchEncryption"] == {
        "CloudWatchEncryptionMode": "SSE-KMS",
        "KmsKeyArn": DATA_KEY,
    }
    assert encryption["JobBookmarksEncryption"] == {
        "JobBookmarksEncryptionMode": "CSE-KMS",
        "KmsKeyArn": DATA_KEY,
    }
    assert encryption["S3Encryptions"] == [{"S3EncryptionMode": "SSE-KMS", "KmsKeyArn": DATA_KEY}]
    (crawler,) = _of(template, "AWS::Glue::Crawler").values()
    props = crawler["Properties"]
    assert props["DatabaseName"] == name
    assert props["CrawlerSecurityConfiguration"] == config["Properties"]["Name"]
    assert props["Schedule"] == {"ScheduleExpression": "cron(0 3 * * ? *)"}
    assert props["TablePrefix"] == f"{dataset}_"
    assert props["SchemaChangePolicy"] == {"UpdateBehavior": "UPDATE_IN_DATABASE", "DeleteBehavior": "LOG"}
    (target,) = props["Targets"]["S3Targets"]
    assert re.fullmatch(rf"s3://<{bucket}[0-9A-F]{{8}}>/{dataset}/", _join(target["Path"]))
    role = props["Role"]["Fn::GetAtt"][0]
    assert template["Resources"][role]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0][
        "Principal"
    ] == {"Service": "glue.amazonaws.com"}
    # the crawler's log group: the name Glue writes to with a security configuration, created encrypted here
    (group,) = [
        g
        for g in _of(template, "AWS::Logs::LogGroup").values()
        if "aws-glue" in json.dumps(g["Properties"].get("LogGroupName", ""))
    ]
    assert (
        _join(group["Properties"]["LogGroupName"])
        == f"/aws-glue/crawlers-role/<{role}>-{config['Properties']['Name']}"
    )
    assert group["Properties"]["KmsKeyId"] == DATA_KEY and group["DeletionPolicy"] == "Retain"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_crawler_role_is_limited_to_its_prefix_its_tables_and_its_log_group(reference, platform):
    template = reference.template(PLATFORMS[platform][0])
    (crawler,) = _of(template, "AWS::Glue::Crawler").values()
    role = crawler["Properties"]["Role"]["Fn::GetAtt"][0]
    prefix = crawler["Properties"]["TablePrefix"].rstrip("_")
    database = crawler["Properties"]["DatabaseName"]
    by_service: dict[str, set[str]] = {}
    for statement in _statements(template, role):
        assert statement["Effect"] == "Allow"
        for action in _actions(statement):
            by_service.setdefault(action.split(":")[0], set()).update(_resources(statement))
            assert "*" not in action.split(":")[1] or action in ("kms:GenerateDataKey*",)
    glue = by_service.pop("glue")
    assert {r.rsplit(":", 1)[-1] for r in glue} == {
        "catalog",
        f"database/{database}",
        f"table/{database}/{prefix}_*",
    }
    s3_resources = by_service.pop("s3")
    assert all(r.endswith((f"/{prefix}/*", ".Arn>")) for r in s3_resources)
    (kms,) = by_service.pop("kms")
    assert kms == "<KeysDataKey8F3FE3A4.Arn>"
    (group,) = [k for k, v in _of(template, "AWS::Logs::LogGroup").items() if "aws-glue" in json.dumps(v)]
    logs = by_service.pop("logs")
    assert logs == {f"<{group}.Arn>", _join_streams(template, group)}
    assert by_service == {}
    assert not any("glue:Delete" in a for s in _statements(template, role) for a in _actions(s))


def _join_streams(template: dict, group: str) -> str:
    name = _join(template["Resources"][group]["Properties"]["LogGroupName"])
    return f"arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:{name}:log-stream:*"


def test_the_training_identity_reads_the_catalog_tables_and_their_locations(reference):
    data, cluster = PLATFORMS["training"]
    (crawler,) = _of(reference.template(data), "AWS::Glue::Crawler").values()
    database = crawler["Properties"]["DatabaseName"]
    (target,) = crawler["Properties"]["Targets"]["S3Targets"]
    # the trainer runs in the cluster stack; what it names of the data stack arrives through that stack's exports
    template = reference.template(cluster)
    (trainer,) = [k for k in _of(template, "AWS::IAM::Role") if k.startswith("TrainerRole")]
    statements = reference.unimport(_statements(template, trainer))
    glue = [s for s in statements if any(a.startswith("glue:") for a in _actions(s))]
    (read,) = glue
    assert sorted(_actions(read)) == sorted(
        [
            "glue:GetDatabase",
            "glue:GetTable",
            "glue:GetTables",
            "glue:GetPartition",
            "glue:GetPartitions",
            "glue:BatchGetPartition",
        ]
    )
    assert {r.rsplit(":", 1)[-1] for r in _resources(read)} == {
        "catalog",
        f"database/{database}",
        f"table/{database}/datasets_*",
    }
    objects = [r for s in statements if "s3:GetObject" in _actions(s) for r in _resources(s)]
    # the objects of the catalogued location: the crawler's bucket (in the data stack) under its prefix
    bucket = re.fullmatch(r"s3://<(\w+)>/datasets/", _join(target["Path"])).group(1)
    assert f"<{bucket}.Arn>/datasets/*" in objects


def _stack():
    app = cdk.App()
    stack = cdk.Stack(app, "Data", env=cdk.Environment(account="111122223333", region="us-east-1"))
    keys = DataKeys(stack, "Keys")
    bucket = DataBucket(stack, "Datasets", encryption_key=keys.data_key)
    return app, stack, keys, bucket


def test_lake_formation_registration_and_the_gates(tmp_path):
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Data", env=cdk.Environment(account="111122223333", region="us-east-1"))
    keys = DataKeys(stack, "Keys")
    bucket = DataBucket(stack, "Datasets", encryption_key=keys.data_key)
    imported = s3.Bucket.from_bucket_attributes(
        stack, "Imported", bucket_name="acme-raw", encryption_key=keys.data_key
    )
    catalog = DatasetCatalog(
        stack,
        "Catalog",
        key=keys.data_key,
        database_name="ml_datasets",
        register_with_lake_formation=True,
        datasets=[
            DatasetSpec(name="imagenet", bucket=bucket, prefix="datasets/imagenet/"),
            DatasetSpec(name="raw_text", bucket=imported, prefix="text/", schedule="cron(30 1 ? * MON *)"),
        ],
    )
    reader = iam.Role(stack, "Reader", assumed_by=iam.AccountRootPrincipal())
    catalog.grant_read(reader, "imagenet")
    acknowledge_fixture(reader, "the test's reader role takes its grants inline", "IAMNoInlinePolicy")
    result = nag_synth(app)
    template = result.template("Data")
    assert [str(f) for f in result.findings] == [], "\n".join(map(str, result.findings))
    assert cfn_lint_errors(template) == []
    locations = _of(template, "AWS::LakeFormation::Resource")
    assert sorted(_join(v["Properties"]["ResourceArn"]) for v in locations.values()) == [
        "<DatasetsBucket9EEDBE5A.Arn>/datasets/imagenet",
        "arn:<AWS::Partition>:s3:::acme-raw/text",
    ]
    (role,) = {v["Properties"]["RoleArn"]["Fn::GetAtt"][0] for v in locations.values()}
    assert all(v["Properties"]["UseServiceLinkedRole"] is False for v in locations.values())
    trust = template["Resources"][role]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "lakeformation.amazonaws.com"}
    crawlers = sorted(
        _of(template, "AWS::Glue::Crawler").values(), key=lambda c: c["Properties"]["TablePrefix"]
    )
    assert [c["Properties"]["Schedule"]["ScheduleExpression"] for c in crawlers] == [
        "cron(0 3 * * ? *)",
        "cron(30 1 ? * MON *)",
    ]
    assert [c["Properties"]["DatabaseName"] for c in crawlers] == ["ml_datasets", "ml_datasets"]
    # the reader was granted one dataset: its tables, not the other's
    reader_id = stack.resolve(reader.role_name)["Ref"]
    glue = [s for s in _statements(template, reader_id) if any(a.startswith("glue:") for a in _actions(s))]
    assert [r.rsplit("/", 1)[-1] for s in glue for r in _resources(s) if "table/" in r] == ["imagenet_*"]


@pytest.mark.parametrize(
    ("props", "spec", "message"),
    [
        (
            {"database_name": "ML-Datasets"},
            None,
            "invalid database_name='ML-Datasets': must be 1-255 lowercase",
        ),
        ({}, {"name": "ImageNet"}, "invalid name='ImageNet': must be a lowercase letter"),
        ({}, {"prefix": "/datasets/"}, "invalid prefix='/datasets/': must be a key prefix"),
        ({}, {"prefix": "datasets"}, "invalid prefix='datasets': must be a key prefix"),
        ({}, {"prefix": ""}, "invalid prefix='': must be a key prefix"),
        ({}, {"schedule": "rate(1 day)"}, "Glue crawler schedules are cron expressions"),
        ({}, {"schedule": "cron(0 3 * * * *)"}, "exactly one of day-of-month and day-of-week must be '?'"),
    ],
)
def test_validation_messages(props, spec, message):
    _app, stack, keys, bucket = _stack()
    catalog = DatasetCatalog(stack, "Catalog", key=keys.data_key, **props) if spec is not None else None
    if spec is None:
        with pytest.raises(EksAiDataValidationError, match=re.escape(message)):
            DatasetCatalog(stack, "Catalog", key=keys.data_key, **props)
        return
    fields = {"name": "imagenet", "bucket": bucket, "prefix": "datasets/imagenet/", **spec}
    with pytest.raises(EksAiDataValidationError, match=re.escape(message)):
        catalog.add_dataset(DatasetSpec(**fields))


def test_overlapping_prefixes_duplicate_names_and_unknown_grants_are_refused():
    _app, stack, keys, bucket = _stack()
    catalog = DatasetCatalog(stack, "Catalog", key=keys.data_key)
    reader = iam.Role(stack, "Reader", assumed_by=iam.AccountRootPrincipal())
    with pytest.raises(EksAiDataValidationError, match="the catalog has no dataset yet"):
        catalog.grant_read(reader)
    catalog.add_dataset(DatasetSpec(name="imagenet", bucket=bucket, prefix="datasets/imagenet/"))
    with pytest.raises(EksAiDataValidationError, match="overlaps dataset 'imagenet'"):
        catalog.add_dataset(
            DatasetSpec(name="imagenet_train", bucket=bucket, prefix="datasets/imagenet/train/")
        )
    with pytest.raises(
        EksAiDataValidationError, match="invalid name='imagenet': dataset names must be unique"
    ):
        catalog.add_dataset(DatasetSpec(name="imagenet", bucket=bucket, prefix="other/"))
    with pytest.raises(
        EksAiDataValidationError, match=r"invalid dataset='coco': no such dataset \(have: \['imagenet'\]\)"
    ):
        catalog.grant_read(reader, "coco")

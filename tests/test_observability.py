"""StorageMonitoring and ContainerInsights: the alarms CloudWatch will evaluate, what they watch, the dashboard.

Each reference platform monitors where its resources live: the data stack (``EksAiDataTrainingData``, ...) alarms on
its file systems, buckets and backup vault, the cluster stack (``EksAiDataTrainingBlue``, ...) on its cluster and
accelerator node groups through Container Insights; each stack has its own topic (encrypted with the data stack's
key) and its own dashboard. The reference app (session fixture) is checked for an alarm on every monitored resource
with the documented metric, namespace, dimension, statistic, threshold and comparison; small apps check what the
reference does not contain (a second file system, other EFS modes, bucket request metrics) and every validation rule.
"""

from __future__ import annotations

import json
import re

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs

from eks_ai_data.bucket import REQUEST_METRICS_ID, DataBucket
from eks_ai_data.efs import SharedEfs
from eks_ai_data.errors import EksAiDataValidationError
from eks_ai_data.keys import DataKeys
from eks_ai_data.labels import ALL_NODE_TAINTS
from eks_ai_data.lustre import LustreStore
from eks_ai_data.observability import AlarmThresholds, StorageMonitoring
from eks_ai_data.observability import container_insights as ci
from stacks import INFERENCE_DATA_STACK, INFERENCE_STACK, TRAINING_DATA_STACK, TRAINING_STACK
from tests._gates import acknowledge_fixture, cfn_lint_errors, nag_synth

GIB = 1024**3
#: Each platform's (data stack, cluster stack) in the default configuration (one cluster, blue).
PLATFORMS = {
    "training": (TRAINING_DATA_STACK, TRAINING_STACK),
    "inference": (INFERENCE_DATA_STACK, INFERENCE_STACK),
}
STACKS = [stack for pair in PLATFORMS.values() for stack in pair]
DATA_KEY = "KeysDataKey8F3FE3A4"
#: What each kind of stack's alarms may watch: stateful resources in the data stack, the cluster in its own.
WATCHED = {
    "data": {"AWS::FSx::FileSystem", "AWS::EFS::FileSystem", "AWS::Backup::BackupVault", "AWS::S3::Bucket"},
    "cluster": {"AWS::EKS::Cluster"},
}
CONTAINER_INSIGHTS_METRICS = (
    "pod_status_pending",
    "node_gpu_utilization",
    "node_gpu_memory_utilization",
    "node_diskio_ebs_volume_queue_length",
)


def kind_of(stack: str) -> str:
    return "data" if stack in (TRAINING_DATA_STACK, INFERENCE_DATA_STACK) else "cluster"


def data_stack_of(stack: str) -> str:
    return next(data for data, cluster in PLATFORMS.values() if stack in (data, cluster))


# -- template helpers ------------------------------------------------------------------------------------------
def alarms(template: dict) -> dict[str, dict]:
    return {
        k: v["Properties"] for k, v in template["Resources"].items() if v["Type"] == "AWS::CloudWatch::Alarm"
    }


def stats(alarm: dict) -> list[dict]:
    """The MetricStat entries of an alarm (a single-metric alarm is normalized to one)."""
    if "MetricName" in alarm:
        return [
            {
                "Namespace": alarm["Namespace"],
                "MetricName": alarm["MetricName"],
                "Dimensions": alarm.get("Dimensions", []),
                "Stat": alarm["Statistic"],
                "Period": alarm["Period"],
            }
        ]
    return [
        {**m["MetricStat"]["Metric"], "Stat": m["MetricStat"]["Stat"], "Period": m["MetricStat"]["Period"]}
        for m in alarm.get("Metrics", [])
        if "MetricStat" in m
    ]


def expression(alarm: dict) -> str:
    (expr,) = [
        m["Expression"] for m in alarm.get("Metrics", []) if m.get("ReturnData", True) and "Expression" in m
    ]
    return json.dumps(expr) if not isinstance(expr, str) else expr


def watching(template: dict, metric_name: str, dimension: str, ref: str) -> list[dict]:
    """Alarms with a metric ``metric_name`` whose ``dimension`` is resource ``ref`` (its Ref or an attribute)."""
    found = []
    for alarm in alarms(template).values():
        for stat in stats(alarm):
            dims = {d["Name"]: d["Value"] for d in stat["Dimensions"]}
            value = dims.get(dimension)
            target = (
                value.get("Ref", (value.get("Fn::GetAtt") or [None])[0]) if isinstance(value, dict) else None
            )
            if stat["MetricName"] == metric_name and target == ref:
                found.append(alarm)
    return found


def metric_names(template: dict) -> set[str]:
    """Every metric the stack's alarms read, by name (Metrics Insights queries included)."""
    names = {stat["MetricName"] for alarm in alarms(template).values() for stat in stats(alarm)}
    for alarm in alarms(template).values():
        for m in alarm.get("Metrics", []):
            names.update(re.findall(r"SELECT \w+\((\w+)\)", json.dumps(m.get("Expression", ""))))
    return names


def of_type(template: dict, type_: str) -> list[str]:
    return [k for k, v in template["Resources"].items() if v["Type"] == type_]


def intrinsics(node: object) -> list[tuple[str, object]]:
    """The ``Ref``, ``Fn::GetAtt`` and ``Fn::ImportValue`` inside ``node``: (function, argument)."""
    if isinstance(node, list):
        return [found for item in node for found in intrinsics(item)]
    if isinstance(node, dict):
        if len(node) == 1 and next(iter(node)) in ("Ref", "Fn::GetAtt", "Fn::ImportValue"):
            return [next(iter(node.items()))]
        return [found for value in node.values() for found in intrinsics(value)]
    return []


def exported_from(reference, value: object) -> tuple[str, object]:
    """(exporting stack, exported value) of an ``Fn::ImportValue`` of the assembly."""
    assert set(value) == {"Fn::ImportValue"}, value
    return reference.exports()[value["Fn::ImportValue"]]


# -- the reference platforms: where each alarm lives -----------------------------------------------------------
@pytest.mark.parametrize("stack", STACKS)
def test_each_alarm_lives_in_the_stack_of_the_resource_it_watches(reference, stack):
    template = reference.template(stack)
    found = alarms(template)
    assert found, f"{stack} monitors something"
    for name, alarm in found.items():
        watched = {k: v for k, v in alarm.items() if k not in ("AlarmActions", "OKActions")}
        refs = intrinsics(watched)
        # no cross-stack import: the resource is this stack's, so the alarm goes with it (and goes when it goes)
        assert not [arg for fn, arg in refs if fn == "Fn::ImportValue"], name
        targets = {arg if fn == "Ref" else arg[0] for fn, arg in refs} - {"AWS::Region", "AWS::AccountId"}
        assert targets, f"{name} names the resource it watches"
        types = {template["Resources"][t]["Type"] for t in targets}
        assert types <= WATCHED[kind_of(stack)], (name, types)
    if kind_of(stack) == "data":  # Container Insights metrics come from a cluster: its stack alarms on them
        assert not set(CONTAINER_INSIGHTS_METRICS) & metric_names(template)
        assert not of_type(template, "AWS::EKS::Addon")
    else:  # and a cluster stack holds no file system, vault or bucket to alarm on
        assert not [t for t in WATCHED["data"] if of_type(template, t)]


def test_every_lustre_file_system_has_free_capacity_and_throughput_alarms(reference):
    data, cluster = PLATFORMS["training"]
    template = reference.template(data)
    (fs,) = of_type(template, "AWS::FSx::FileSystem")
    capacity = template["Resources"][fs]["Properties"]["StorageCapacity"]
    per_unit = template["Resources"][fs]["Properties"]["LustreConfiguration"]["PerUnitStorageThroughput"]
    (free,) = watching(template, "FreeDataStorageCapacity", "FileSystemId", fs)
    assert stats(free)[0] | {"Dimensions": None} == {
        "Namespace": "AWS/FSx",
        "MetricName": "FreeDataStorageCapacity",
        "Dimensions": None,
        "Stat": "Sum",
        "Period": 60,  # FSx publishes per storage target each minute: a 60 s Sum is the whole file system
    }
    assert expression(free) == f"100 * free / {capacity * GIB}"
    assert (free["Threshold"], free["ComparisonOperator"], free["EvaluationPeriods"]) == (
        15,
        "LessThanThreshold",
        5,
    )
    (throughput,) = watching(template, "DataReadBytes", "FileSystemId", fs)
    assert {s["MetricName"] for s in stats(throughput)} == {"DataReadBytes", "DataWriteBytes"}
    provisioned = capacity / 1024 * per_unit * 10**6  # bytes/s
    assert expression(throughput) == f"100 * (readb + writeb) / PERIOD(readb) / {provisioned:.0f}"
    assert (throughput["Threshold"], throughput["ComparisonOperator"]) == (80, "GreaterThanThreshold")
    # the cluster stack that mounts it does not alarm on it a second time
    assert "FreeDataStorageCapacity" not in metric_names(reference.template(cluster))


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_efs_has_throughput_and_io_limit_alarms_and_no_burst_alarm_in_elastic_mode(reference, platform):
    data, cluster = PLATFORMS[platform]
    template = reference.template(data)
    file_systems = of_type(template, "AWS::EFS::FileSystem")
    assert file_systems  # training: the shared EFS; inference: the model cache (model_cache="efs")
    for fs in file_systems:
        props = template["Resources"][fs]["Properties"]
        assert (
            props["ThroughputMode"] == "elastic"
            and props.get("PerformanceMode", "generalPurpose") == "generalPurpose"
        )
        (util,) = watching(template, "MeteredIOBytes", "FileSystemId", fs)
        assert {(s["MetricName"], s["Stat"]) for s in stats(util)} == {
            ("MeteredIOBytes", "Sum"),
            ("PermittedThroughput", "Average"),
        }
        assert expression(util) == "100 * (metered / PERIOD(metered)) / permitted"
        assert (util["Threshold"], util["ComparisonOperator"], util["EvaluationPeriods"]) == (
            80,
            "GreaterThanThreshold",
            3,
        )
        (io,) = watching(template, "PercentIOLimit", "FileSystemId", fs)
        assert (io["Statistic"], io["Period"], io["EvaluationPeriods"], io["DatapointsToAlarm"]) == (
            "Maximum",
            60,
            15,
            15,
        )
        assert (io["Threshold"], io["ComparisonOperator"]) == (100, "GreaterThanOrEqualToThreshold")
        assert watching(template, "BurstCreditBalance", "FileSystemId", fs) == []
    assert not {"MeteredIOBytes", "PercentIOLimit"} & metric_names(reference.template(cluster))


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_backup_vault_has_failed_and_expired_job_alarms(reference, platform):
    data, cluster = PLATFORMS[platform]
    template = reference.template(data)
    (vault,) = of_type(template, "AWS::Backup::BackupVault")
    for metric in ("NumberOfBackupJobsFailed", "NumberOfBackupJobsExpired"):
        (alarm,) = watching(template, metric, "BackupVaultName", vault)
        assert (alarm["Namespace"], alarm["Statistic"], alarm["Threshold"]) == ("AWS/Backup", "Sum", 0)
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert alarm["TreatMissingData"] == "notBreaching"  # no failure publishes no datapoint
    # the cluster stack's EKS backup selection uses that vault's plan; its jobs are the vault's, alarmed there
    assert of_type(reference.template(cluster), "AWS::Backup::BackupSelection")
    assert not of_type(reference.template(cluster), "AWS::Backup::BackupVault")
    assert not {"NumberOfBackupJobsFailed"} & metric_names(reference.template(cluster))


@pytest.mark.parametrize(
    ("platform", "instance_type"), [("training", "p5.48xlarge"), ("inference", "g6e.12xlarge")]
)
def test_gpu_node_groups_get_gpu_memory_and_idle_alarms_by_instance_type(reference, platform, instance_type):
    template = reference.template(PLATFORMS[platform][1])
    (cluster,) = of_type(template, "AWS::EKS::Cluster")
    queries = {}
    for alarm in alarms(template).values():
        expr = [m["Expression"] for m in alarm.get("Metrics", []) if "Expression" in m]
        if expr and isinstance(expr[0], dict) and "SELECT" in json.dumps(expr[0]):
            text = "".join(p if isinstance(p, str) else f"<{p['Ref']}>" for p in expr[0]["Fn::Join"][1])
            queries[re.search(r"SELECT (\w+\(\w+\))", text).group(1)] = (text, alarm)
    text, memory = queries["MAX(node_gpu_memory_utilization)"]
    assert f"ClusterName = '<{cluster}>'" in text and f"InstanceType = '{instance_type}'" in text
    assert "SCHEMA(ContainerInsights, ClusterName, GpuDevice, InstanceId, InstanceType, NodeName)" in text
    assert (memory["Threshold"], memory["ComparisonOperator"]) == (90, "GreaterThanOrEqualToThreshold")
    text, idle = queries["AVG(node_gpu_utilization)"]
    assert f"InstanceType = '{instance_type}'" in text
    assert (idle["Threshold"], idle["ComparisonOperator"], idle["EvaluationPeriods"]) == (
        10,
        "LessThanThreshold",
        12,
    )
    assert idle["TreatMissingData"] == "notBreaching"  # scaled to zero: no GPUs, no data, no alarm
    text, queue = queries["MAX(node_diskio_ebs_volume_queue_length)"]
    assert "SCHEMA(ContainerInsights, ClusterName, InstanceId, NodeName, VolumeId)" in text
    assert (queue["Threshold"], queue["ComparisonOperator"], queue["EvaluationPeriods"]) == (
        3,
        "GreaterThanThreshold",
        3,
    )
    (pending,) = watching(template, "pod_status_pending", "ClusterName", cluster)
    assert (pending["Namespace"], pending["Threshold"], pending["EvaluationPeriods"]) == (
        "ContainerInsights",
        1,
        6,
    )


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_alarm_notifies_its_stacks_topic_encrypted_with_the_data_key_in_alarm_and_ok(
    reference, platform
):
    data, _ = PLATFORMS[platform]
    key_policy = reference.template(data)["Resources"][DATA_KEY]["Properties"]["KeyPolicy"]["Statement"]
    # CloudWatch encrypts what it publishes to an encrypted topic with the topic's key: the key policy must let it
    statement = next(s for s in key_policy if s.get("Sid") == "AllowCloudWatchAlarmsToEncryptedTopic")
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert sorted(statement["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    total = 0
    for stack in PLATFORMS[platform]:
        template = reference.template(stack)
        (topic,) = [k for k in of_type(template, "AWS::SNS::Topic") if "Monitoring" in k]
        key = template["Resources"][topic]["Properties"]["KmsMasterKeyId"]
        if stack == data:
            assert key == {"Fn::GetAtt": [DATA_KEY, "Arn"]}
        else:  # the cluster stack's topic uses the data stack's key, through an export of that stack
            assert exported_from(reference, key) == (data, {"Fn::GetAtt": [DATA_KEY, "Arn"]})
        found = alarms(template)
        total += len(found)
        for alarm in found.values():
            assert alarm["AlarmActions"] == [{"Ref": topic}] and alarm["OKActions"] == [{"Ref": topic}]
        (policy,) = [
            v["Properties"]["PolicyDocument"]["Statement"]
            for v in template["Resources"].values()
            if v["Type"] == "AWS::SNS::TopicPolicy" and v["Properties"]["Topics"] == [{"Ref": topic}]
        ]
        allow = next(s for s in policy if s.get("Sid") == "AllowCloudWatchAlarms")
        assert (
            allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"} and allow["Action"] == "sns:Publish"
        )
        assert "aws:SourceArn" in allow["Condition"]["ArnLike"]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in policy
        )
    assert total >= 8  # file systems, vault, cluster, GPU node group


def _resolved_body(reference, stack: str, body: object) -> str:
    """The dashboard body with each intrinsic replaced by a placeholder naming what it refers to: ``@Ref:<id>``,
    ``@GetAtt:<id>`` in this stack, ``@Import:<stack>/<id>`` for an export of another stack."""
    if isinstance(body, str):
        return body
    out = []
    for part in body["Fn::Join"][1]:
        if isinstance(part, str):
            out.append(part)
        elif "Ref" in part:
            out.append(f"@Ref:{part['Ref']}")
        elif "Fn::GetAtt" in part:
            out.append(f"@GetAtt:{part['Fn::GetAtt'][0]}")
        else:
            home, value = exported_from(reference, part)
            ((fn, arg),) = intrinsics(value)
            out.append(f"@Import:{home}/{arg if fn == 'Ref' else arg[0]}")
    return "".join(out)


@pytest.mark.parametrize("stack", STACKS)
def test_the_dashboard_is_valid_json_and_shows_only_resources_that_exist(reference, stack):
    template = reference.template(stack)
    (dashboard,) = of_type(template, "AWS::CloudWatch::Dashboard")
    raw = _resolved_body(reference, stack, template["Resources"][dashboard]["Properties"]["DashboardBody"])
    body = json.loads(raw)
    referenced = set(re.findall(r"@(?:Ref|GetAtt):(\w+)", raw)) - {"AWS::Region"}
    assert referenced, "the dashboard names the resources it shows"
    assert referenced <= set(template["Resources"]) | {"AWS"}
    # a resource of another stack may only be one of the platform's data stack (what CloudFormation can import)
    for home, logical_id in re.findall(r"@Import:(\w+)/(\w+)", raw):
        assert home == data_stack_of(stack) and logical_id in reference.template(home)["Resources"]
    shown = {
        m[1]
        for w in body["widgets"]
        if w["type"] == "metric"
        for m in w["properties"]["metrics"]
        if isinstance(m[0], str)
    } | set(re.findall(r"SELECT \w+\((\w+)\)", raw))
    if kind_of(stack) == "data":
        assert {"PercentIOLimit", "NumberOfBackupJobsFailed"} <= shown
        assert not set(CONTAINER_INSIGHTS_METRICS) & shown
    else:
        assert set(CONTAINER_INSIGHTS_METRICS) <= shown
        assert not {"FreeDataStorageCapacity", "PercentIOLimit", "NumberOfBackupJobsFailed"} & shown
    # every alarm of the stack is on the dashboard
    alarm_widgets = [a for w in body["widgets"] if w["type"] == "alarm" for a in w["properties"]["alarms"]]
    assert {a.removeprefix("@GetAtt:") for a in alarm_widgets} == set(alarms(template))


@pytest.mark.parametrize("platform", PLATFORMS)
def test_container_insights_add_on_with_gpu_metrics_and_its_own_identity(reference, platform):
    data, cluster = PLATFORMS[platform]
    assert not of_type(reference.template(data), "AWS::EKS::Addon")  # the add-on goes with its cluster
    res = reference.template(cluster)["Resources"]
    (addon,) = [
        k
        for k, v in res.items()
        if v["Type"] == "AWS::EKS::Addon" and v["Properties"]["AddonName"] == ci.ADDON
    ]
    assert res[addon]["Properties"]["ClusterName"] == {
        "Ref": next(k for k in res if res[k]["Type"] == "AWS::EKS::Cluster")
    }
    values = json.loads(res[addon]["Properties"]["ConfigurationValues"])
    kubernetes = values["agent"]["config"]["logs"]["metrics_collected"]["kubernetes"]
    assert kubernetes == {"enhanced_container_insights": True, "accelerated_compute_metrics": True}
    assert values["containerLogs"] == {"enabled": True}
    (association,) = [
        k
        for k, v in res.items()
        if v["Type"] == "AWS::EKS::PodIdentityAssociation"
        and v["Properties"]["ServiceAccount"] == "cloudwatch-agent"
    ]
    assert res[association]["Properties"]["Namespace"] == "amazon-cloudwatch"
    assert association in res[addon]["DependsOn"]  # pods get credentials only if the association came first
    role = res[association]["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    # least privilege, not CloudWatchAgentServerPolicy (which may change any log group's retention)
    assert "ManagedPolicyArns" not in res[role]["Properties"]
    statements = [
        st
        for v in res.values()
        if v["Type"] == "AWS::IAM::Policy" and {"Ref": role} in v["Properties"]["Roles"]
        for st in v["Properties"]["PolicyDocument"]["Statement"]
    ]
    actions = {
        a for st in statements for a in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])
    }
    assert "logs:PutRetentionPolicy" not in actions and not any(a.endswith("*") for a in actions)
    (writes,) = [st for st in statements if "logs:PutLogEvents" in st["Action"]]
    assert all("/aws/containerinsights/" in json.dumps(r) for r in writes["Resource"])
    (metrics,) = [st for st in statements if st["Action"] == "cloudwatch:PutMetricData"]
    assert metrics["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": ["ContainerInsights", "CWAgent"]}
    }
    trust = res[role]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert (
        trust["Condition"]["StringEquals"]["aws:RequestTag/kubernetes-service-account"] == "cloudwatch-agent"
    )
    groups = {
        k: v
        for k, v in res.items()
        if v["Type"] == "AWS::Logs::LogGroup" and "containerinsights" in json.dumps(v)
    }
    names = {v["Properties"]["LogGroupName"]["Fn::Join"][1][-1].lstrip("/") for v in groups.values()}
    assert names == {"performance", "application", "host", "dataplane"}
    for group in groups.values():
        # encrypted with the data stack's data key (its policy admits CloudWatch Logs for the account's groups)
        assert exported_from(reference, group["Properties"]["KmsKeyId"]) == (
            data,
            {"Fn::GetAtt": [DATA_KEY, "Arn"]},
        )
        assert group["Properties"]["RetentionInDays"] == 30 and group["DeletionPolicy"] == "Retain"
    assert set(groups) <= set(res[addon]["DependsOn"])  # the agent finds them and creates nothing


def test_the_add_on_leaves_the_chart_default_tolerations_which_tolerate_every_platform_taint():
    assert "tolerations" not in json.dumps(ci.AGENT_CONFIG)

    def tolerates(
        toleration: dict, taint
    ) -> bool:  # Kubernetes: operator Exists without key matches every taint
        if toleration.get("operator") == "Exists" and "key" not in toleration:
            return toleration.get("effect") in (None, taint.effect)
        return toleration.get("key") == taint.key and toleration.get("value") == taint.value

    assert all(any(tolerates(t, taint) for t in ci.CHART_DEFAULT_TOLERATIONS) for taint in ALL_NODE_TAINTS)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_ebs_csi_driver_publishes_the_metrics_the_ebs_alarm_reads(reference, platform):
    template = reference.template(PLATFORMS[platform][1])
    assert "node_diskio_ebs_volume_queue_length" in metric_names(template)  # the alarm, in this stack
    (ebs,) = [
        v
        for v in template["Resources"].values()
        if v["Type"] == "AWS::EKS::Addon" and v["Properties"]["AddonName"] == "aws-ebs-csi-driver"
    ]
    values = json.loads(ebs["Properties"]["ConfigurationValues"])
    assert values["node"]["enableMetrics"] is True
    assert (
        values["node"]["tolerateAllTaints"] is True and values["controller"]
    )  # the driver's own values kept


# -- small apps: what the reference does not contain ---------------------------------------------------------------
def _data_stack():
    app = cdk.App()
    stack = cdk.Stack(app, "Data", env=cdk.Environment(account="111122223333", region="us-east-1"))
    vpc = ec2.Vpc(stack, "Vpc", availability_zones=["us-east-1a", "us-east-1b"], nat_gateways=0)
    keys = DataKeys(stack, "Keys")
    return app, stack, vpc, keys


def _lustre(stack, vpc, keys, name, capacity):
    return LustreStore(
        stack,
        name,
        vpc=vpc,
        subnet=vpc.isolated_subnets[0],
        node_security_groups=[],
        kms_key=keys.data_key,
        storage_capacity_gib=capacity,
        metadata_iops=3000 if name == "Second" else None,
    )


def test_a_second_lustre_file_system_gets_its_own_alarms_and_metadata_iops_their_alarm(tmp_path):
    app, stack, vpc, keys = _data_stack()
    first = _lustre(stack, vpc, keys, "First", 1200)
    second = _lustre(stack, vpc, keys, "Second", 4800)
    monitoring = StorageMonitoring(
        stack, "Monitoring", topic_key=keys.data_key, container_insights=False, discover=False
    )
    monitoring.add_lustre(first)
    monitoring.add_lustre(second, metadata_iops=3000)
    template = app.synth().get_stack_by_name("Data").template
    for store, capacity in ((first, 1200), (second, 4800)):
        fs = stack.resolve(store.file_system_id)["Ref"]
        (free,) = watching(template, "FreeDataStorageCapacity", "FileSystemId", fs)
        assert expression(free) == f"100 * free / {capacity * GIB}"
    fs = stack.resolve(second.file_system_id)["Ref"]
    (metadata,) = watching(template, "MetadataOperations", "FileSystemId", fs)
    assert expression(metadata) == "100 * mdops / PERIOD(mdops) / 3000"
    assert (metadata["Threshold"], metadata["ComparisonOperator"]) == (80, "GreaterThanThreshold")
    fs = stack.resolve(first.file_system_id)["Ref"]
    assert watching(template, "MetadataOperations", "FileSystemId", fs) == []  # Automatic mode: FSx scales it


def test_discovery_finds_file_systems_and_buckets_with_request_metrics_and_the_gates_pass(tmp_path):
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Data", env=cdk.Environment(account="111122223333", region="us-east-1"))
    vpc = ec2.Vpc(stack, "Vpc", availability_zones=["us-east-1a", "us-east-1b"], nat_gateways=0)
    keys = DataKeys(stack, "Keys")
    one = _lustre(stack, vpc, keys, "One", 1200)
    two = _lustre(stack, vpc, keys, "Two", 2400)
    bursting = SharedEfs(
        stack,
        "Bursting",
        vpc=vpc,
        node_security_groups=[],
        kms_key=keys.data_key,
        vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        throughput_mode=efs.ThroughputMode.BURSTING,
        performance_mode=efs.PerformanceMode.MAX_IO,
    )
    acknowledge_fixture(
        bursting, "a file system of the monitoring's test, in no DataBackupPlan", "EFSInBackupPlan"
    )
    measured = DataBucket(stack, "Measured", encryption_key=keys.data_key, request_metrics=True)
    plain = DataBucket(stack, "Plain", encryption_key=keys.data_key)
    StorageMonitoring(stack, "Monitoring", topic_key=keys.data_key, alarm_email="ops@example.com")
    result = nag_synth(app)
    template = result.template("Data")
    # the test's own VPC has no flow log; everything else passes cdk-nag
    assert [str(f) for f in result.findings if not f.path.startswith("Data/Vpc/")] == []
    assert cfn_lint_errors(template) == []
    for store in (one, two):
        assert (
            len(
                watching(
                    template,
                    "FreeDataStorageCapacity",
                    "FileSystemId",
                    stack.resolve(store.file_system_id)["Ref"],
                )
            )
            == 1
        )
    fs = stack.resolve(bursting.file_system_id)["Ref"]
    (credits,) = watching(template, "BurstCreditBalance", "FileSystemId", fs)
    assert (credits["Statistic"], credits["Threshold"], credits["ComparisonOperator"]) == (
        "Minimum",
        0,
        "LessThanOrEqualToThreshold",
    )
    assert watching(template, "PercentIOLimit", "FileSystemId", fs) == []  # Max I/O reports none
    bucket = stack.resolve(measured.bucket_name)["Ref"]
    assert template["Resources"][bucket]["Properties"]["MetricsConfigurations"] == [
        {"Id": REQUEST_METRICS_ID}
    ]
    for code in ("4xxErrors", "5xxErrors"):
        (alarm,) = watching(template, code, "BucketName", bucket)
        dims = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
        assert dims["FilterId"] == REQUEST_METRICS_ID
        assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == ("Average", 60, 15)
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0.05, "GreaterThanThreshold")
    plain_ref = stack.resolve(plain.bucket_name)["Ref"]
    assert "MetricsConfigurations" not in template["Resources"][plain_ref]["Properties"]
    assert watching(template, "4xxErrors", "BucketName", plain_ref) == []
    (subscription,) = of_type(template, "AWS::SNS::Subscription")
    assert template["Resources"][subscription]["Properties"]["Endpoint"] == "ops@example.com"


def test_a_resource_created_after_the_monitoring_fails_the_synth_with_its_path():
    app, stack, vpc, keys = _data_stack()
    _lustre(stack, vpc, keys, "Early", 1200)
    StorageMonitoring(stack, "Monitoring", topic_key=keys.data_key)
    _lustre(stack, vpc, keys, "Late", 1200)
    with pytest.raises(
        RuntimeError, match=r"Data/Monitoring: invalid discover=\['Data/Late'\]: these were created"
    ):
        app.synth()


def test_ignored_resources_are_not_monitored_and_not_reported():
    app, stack, vpc, keys = _data_stack()
    early = _lustre(stack, vpc, keys, "Early", 1200)
    monitoring = StorageMonitoring(stack, "Monitoring", topic_key=keys.data_key, discover=False)
    monitoring.ignore(early)
    monitoring.add_lustre(early)  # ignored wins
    late = _lustre(stack, vpc, keys, "Late", 1200)
    monitoring.add_lustre(late)
    assert list(monitoring.alarms) == ["Data/Late"]
    app.synth()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "invalid topic_key=None: is required to encrypt the alarm topic"),
        ({"alarm_email": "ops"}, "invalid alarm_email='ops': must be an email address"),
        ({"dashboard_name": "my board"}, "invalid dashboard_name='my board': must be 1-255 letters"),
        (
            {"thresholds": AlarmThresholds(gpu_memory_percent=120)},
            "thresholds.gpu_memory_percent=120: must be a percentage",
        ),
        ({"thresholds": AlarmThresholds(s3_error_rate=5)}, "thresholds.s3_error_rate=5: must be a fraction"),
        (
            {"thresholds": AlarmThresholds(pending_pods=0.5)},
            "thresholds.pending_pods=0.5: must be a whole number",
        ),
        (
            {"thresholds": AlarmThresholds(ebs_queue_length=-1)},
            "thresholds.ebs_queue_length=-1: must be 0 or more",
        ),
        (
            {"container_insights": False, "container_insights_props": {"identity": "irsa"}},
            "needs container_insights=True",
        ),
        (
            {"container_insights_props": {"log_retention_days": 7}},
            "invalid container_insights_props=['log_retention_days']: unknown ContainerInsightsOptions keys: "
            "allowed are ['addon_version', 'container_logs', 'identity', 'log_retention', 'logs_key']",
        ),
    ],
)
def test_validation_messages(kwargs, message):
    _app, stack, _vpc, keys = _data_stack()
    kwargs = {"topic_key": keys.data_key, **kwargs} if "topic_key" not in kwargs and kwargs else kwargs
    with pytest.raises(EksAiDataValidationError, match=re.escape(message)):
        StorageMonitoring(stack, "Monitoring", discover=False, **kwargs)


def test_a_bucket_without_request_metrics_cannot_be_added_and_an_empty_monitoring_fails_the_synth():
    app, stack, _vpc, keys = _data_stack()
    plain = DataBucket(stack, "Plain", encryption_key=keys.data_key)
    monitoring = StorageMonitoring(stack, "Monitoring", topic_key=keys.data_key, discover=False)
    with pytest.raises(EksAiDataValidationError, match="Data/Plain has no request metrics"):
        monitoring.add_bucket(plain)
    with pytest.raises(RuntimeError, match="invalid resources=\\[\\]: must monitor at least one resource"):
        app.synth()


def test_metadata_iops_must_be_provisioned_iops():
    _app, stack, vpc, keys = _data_stack()
    store = _lustre(stack, vpc, keys, "One", 1200)
    monitoring = StorageMonitoring(stack, "Monitoring", topic_key=keys.data_key, discover=False)
    with pytest.raises(
        EksAiDataValidationError, match="invalid metadata_iops=100: must be the file system's"
    ):
        monitoring.add_lustre(store, metadata_iops=100)


def test_irsa_identity_puts_the_role_on_the_add_on_and_creates_no_association():
    from eks_ai_data.cluster import AiCluster
    from eks_ai_data.observability import ContainerInsights

    app = cdk.App()
    stack = cdk.Stack(app, "Irsa")
    platform = AiCluster(stack, "Platform")
    insights = ContainerInsights(stack, "Insights", cluster=platform, identity="irsa", container_logs=False)
    template = app.synth().get_stack_by_name("Irsa").template
    addon = template["Resources"][stack.get_logical_id(insights.addon.node.default_child)]
    role = stack.resolve(insights.role.role_arn)["Fn::GetAtt"][0]
    assert addon["Properties"]["ServiceAccountRoleArn"] == {"Fn::GetAtt": [role, "Arn"]}
    assert json.loads(addon["Properties"]["ConfigurationValues"])["containerLogs"] == {"enabled": False}
    assert of_type(template, "AWS::EKS::PodIdentityAssociation") == []
    trust = json.dumps(template["Resources"][role]["Properties"]["AssumeRolePolicyDocument"])
    assert '"Action": "sts:AssumeRoleWithWebIdentity"' in trust
    # the sub condition is rendered through CfnJson (the issuer is a deploy-time value)
    assert "system:serviceaccount:amazon-cloudwatch:cloudwatch-agent" in json.dumps(template)
    groups = [
        v
        for v in template["Resources"].values()
        if v["Type"] == "AWS::Logs::LogGroup" and "containerinsights" in json.dumps(v)
    ]
    assert [g["Properties"]["LogGroupName"]["Fn::Join"][1][-1] for g in groups] == ["/performance"]
    with pytest.raises(
        EksAiDataValidationError,
        match=r"invalid identity='iam': must be IdentityMode.IRSA or IdentityMode.POD_IDENTITY \(or 'irsa', 'pod-identity'\)",
    ):
        ContainerInsights(stack, "Bad", cluster=platform, identity="iam")
    with pytest.raises(
        EksAiDataValidationError,
        match=re.escape("invalid addon_version='4.7': must be an EKS add-on version"),
    ):
        ContainerInsights(stack, "Bad2", cluster=platform, addon_version="4.7")


def test_an_imported_topic_key_is_reported():
    from aws_cdk import aws_kms as kms

    app, stack, vpc, keys = _data_stack()
    store = _lustre(stack, vpc, keys, "One", 1200)
    key = kms.Key.from_key_arn(
        stack, "K", "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )
    monitoring = StorageMonitoring(stack, "Monitoring", topic_key=key, discover=False)
    monitoring.add_lustre(store)
    warnings = [
        m.entry.data
        for m in app.synth().get_stack_by_name("Data").messages
        if "AlarmTopicKeyPolicy" in str(m.entry.data)
    ]
    assert warnings and "allow cloudwatch.amazonaws.com kms:Decrypt and kms:GenerateDataKey*" in warnings[0]

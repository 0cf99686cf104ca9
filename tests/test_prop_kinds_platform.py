"""Round 3 of wrong-kind and edge values, continued: Karpenter pools, the Cluster Autoscaler, the patterns,
ClusterStorage and its charts, monitoring, the dataset catalog, the storage drivers, the device plugins and the
imports. Each gets the library's message with the construct path and the prop the user passed; the edge values
AWS and Kubernetes accept still pass."""

from __future__ import annotations

import itertools

import aws_cdk as cdk
import pytest
from aws_cdk import Duration

from eks_ai_data import (
    AiCluster,
    ClusterAutoscaler,
    ClusterNetwork,
    ClusterStorage,
    DataBucket,
    DataKeys,
    DataRepositoryLink,
    DistributedDataset,
    EfsClassSpec,
    GpuNodeGroup,
    GpuNodePool,
    ImportedAiCluster,
    Karpenter,
    LustreStore,
    ModelRepository,
    NamespaceSpec,
    NodegroupAsgTags,
    NodeMonitoringAgent,
    NvmeNodePool,
    PlatformKeys,
    ServiceAccountSpec,
    SharedEfs,
    StorageDrivers,
    TeamSpec,
    TrainingCheckpoints,
    ZonalStack,
    efa_device_plugin,
    lustre_volume_spec,
    neuron_device_plugin,
    size_lustre,
)
from eks_ai_data.errors import EksAiDataValidationError
from eks_ai_data.governance import DatasetCatalog, DatasetSpec
from eks_ai_data.observability import AlarmThresholds, ContainerInsights, StorageMonitoring

_ids = itertools.count()


def _platform(name: str = "P"):
    stack = ZonalStack(
        cdk.App(),
        name,
        env=cdk.Environment(account="111111111111", region="us-east-1"),
        availability_zones=["us-east-1a", "us-east-1b"],
    )
    keys = DataKeys(stack, "Keys")
    net = ClusterNetwork(stack, "Net", logs_key=keys.data_key)
    return stack, keys, net, AiCluster(stack, "Platform", vpc=net.vpc, keys=keys)


@pytest.fixture(scope="module")
def s():
    stack, keys, net, cluster = _platform()
    storage = ClusterStorage(stack, "Storage", cluster=cluster, namespaces=["training", "inference"])
    lustre = LustreStore(
        stack, "Lustre", vpc=net.vpc, subnet=net.vpc.private_subnets[0], kms_key=keys.data_key
    )
    return {
        "stack": stack,
        "keys": keys,
        "net": net,
        "cluster": cluster,
        "storage": storage,
        "lustre": lustre,
        "efs": SharedEfs(stack, "Efs", vpc=net.vpc, kms_key=keys.data_key),
        "bucket": DataBucket(stack, "Bucket", encryption_key=keys.data_key),
        "gpus": GpuNodeGroup(stack, "Gpus", cluster=cluster, instance_types=["p5.48xlarge"]),
        "karpenter": Karpenter(stack, "Karpenter", cluster=cluster),
        "monitoring": StorageMonitoring(
            stack, "Monitoring", topic_key=keys.data_key, discover=False, container_insights=False
        ),
    }


def _storage(**props):
    """A ClusterStorage on a cluster of its own (its drivers take the cluster's driver service accounts)."""
    stack, _, _, cluster = _platform("C")
    return ClusterStorage(stack, "Storage", cluster=cluster, **props)


def _on_new_cluster(cls, name: str, **props):
    """``cls`` on a platform of its own (for constructs that take the cluster's service accounts)."""
    stack, _, _, cluster = _platform(name)
    return cls(stack, cls.__name__, cluster=cluster, **props)


def _gpu_pool(s, i, **props):
    return GpuNodePool(s["stack"], i, karpenter=s["karpenter"], instance_types=["p5.48xlarge"], **props)


def _dataset(s, i, **props):
    props.setdefault("gpu_instance_types", ["p5.48xlarge"])
    return DistributedDataset(
        s["stack"], i, cluster=s["cluster"], storage=s["storage"], namespace="training", **props
    )


def _models(s, i, **props):
    return ModelRepository(
        s["stack"],
        i,
        cluster=s["cluster"],
        storage=s["storage"],
        namespace="inference",
        efs=s["efs"],
        **props,
    )


def _checkpoints(s, i, **props):
    props.setdefault("scratch_node_groups", [s["gpus"]])
    return TrainingCheckpoints(
        s["stack"],
        i,
        cluster=s["cluster"],
        storage=s["storage"],
        namespace="training",
        lustre=s["lustre"],
        **props,
    )


def _catalog(s, i, **props):
    return DatasetCatalog(s["stack"], i, key=s["keys"].data_key, **props)


def _monitoring(s, i, **props):
    props.setdefault("discover", False)
    props.setdefault("container_insights", False)
    return StorageMonitoring(s["stack"], i, **props)


DNS = "fs-0123456789abcdef0.fsx.us-east-1.amazonaws.com"


def _imported_lustre(s, i, **props):
    props.setdefault("file_system", s["lustre"].file_system)
    props.setdefault("subnet", s["net"].vpc.private_subnets[0])
    return LustreStore.from_existing(
        s["stack"], i, dns_name=DNS, mount_name="abcdefgh", storage_capacity_gib=1200, **props
    )


def _imported_cluster(s, i, **props):
    props.setdefault("keys", PlatformKeys(data_key=s["keys"].data_key))
    return ImportedAiCluster(
        s["stack"], i, cluster_name="ml", kubernetes_version="1.36", vpc=s["net"].vpc,
        cluster_security_group_id="sg-12345678", **props,
    )  # fmt: skip


def _asg_tags(s, i, **props):
    props.setdefault("tags", {"k8s.io/cluster-autoscaler/node-template/label/team": "ml"})
    props.setdefault("log_key", s["keys"].data_key)
    props.setdefault("cluster_name", "ml")
    props.setdefault("nodegroup", s["gpus"].nodegroup)
    return NodegroupAsgTags(s["stack"], i, **props)


CASES = {
    # imports
    "imported Lustre: file system as an id": (
        lambda s, i: _imported_lustre(s, i, file_system="fs-0123456789abcdef0"),
        r"^P/X\d+: invalid file_system='fs-0123456789abcdef0': must be an fsx.IFileSystem",
    ),
    "imported Lustre: subnet as an id": (
        lambda s, i: _imported_lustre(s, i, subnet="subnet-1"),
        r"^P/X\d+: invalid subnet='subnet-1': must be an ec2.ISubnet",
    ),
    "imported Lustre: one link, not a list": (
        lambda s, i: _imported_lustre(
            s, i, links=DataRepositoryLink(file_system_path="/data", bucket=s["bucket"].bucket)
        ),
        r"^P/X\d+: invalid links=DataRepositoryLink\(.*\): must be a list of DataRepositoryLink, not one",
    ),
    "imported EFS: file system as an id": (
        lambda s, i: SharedEfs.from_existing(s["stack"], i, file_system="fs-12345678", requires_iam=True),
        r"^P/X\d+: invalid file_system='fs-12345678': must be an efs.IFileSystem",
    ),
    "imported cluster: system_node_labels as a string": (
        lambda s, i: _imported_cluster(s, i, system_node_labels="role=system"),
        r"^P/X\d+: invalid system_node_labels='role=system': must be a mapping of label keys to values$",
    ),
    "imported cluster: kubectl_role as an ARN": (
        lambda s, i: _imported_cluster(s, i, kubectl_role="arn:aws:iam::111111111111:role/kubectl"),
        r"^P/X\d+: invalid kubectl_role='arn:aws:iam::111111111111:role/kubectl': must be an iam.IRole",
    ),
    "imported cluster: OIDC provider as an ARN": (
        lambda s, i: _imported_cluster(
            s, i, open_id_connect_provider="arn:aws:iam::111111111111:oidc-provider/x"
        ),
        r"^P/X\d+: invalid open_id_connect_provider='arn:aws:iam::.*': must be an iam.IOpenIdConnectProvider",
    ),
    "imported cluster: the data key as an ARN": (
        lambda s, i: _imported_cluster(s, i, keys=PlatformKeys(data_key="arn:aws:kms:x")),
        r"^P/X\d+: invalid keys.data_key='arn:aws:kms:x': must be a kms.IKey",
    ),
    "imported cluster: install_pod_identity_agent as a string": (
        lambda s, i: _imported_cluster(s, i, install_pod_identity_agent="no"),
        r"^P/X\d+: invalid install_pod_identity_agent='no': must be True or False$",
    ),
    # node group ASG tags, node monitoring agent, Lustre sizing, thresholds
    "ASG tags: a node group name": (
        lambda s, i: _asg_tags(s, i, nodegroup="gpus"),
        r"^P/X\d+: invalid nodegroup='gpus': must be an eks.Nodegroup",
    ),
    "ASG tags: a key of 129 characters": (
        lambda s, i: _asg_tags(s, i, tags={"k" * 129: "v"}),
        r"^P/X\d+: invalid tags=\{'k{129}': 'v'\}: Auto Scaling group tags have keys of 1-128 characters",
    ),
    "ASG tags: a value of 257 characters": (
        lambda s, i: _asg_tags(s, i, tags={"team": "v" * 257}),
        r"^P/X\d+: invalid tags=\{'team': 'v{257}'\}: Auto Scaling group tags .* values of at most 256",
    ),
    "ASG tags: an aws: key": (
        lambda s, i: _asg_tags(s, i, tags={"aws:team": "ml"}),
        r"^P/X\d+: invalid tags=\{'aws:team': 'ml'\}: Auto Scaling group tags have keys .* not starting with 'aws:'",
    ),
    "ASG tags: tags as a string": (
        lambda s, i: _asg_tags(s, i, tags="team=ml"),
        r"^P/X\d+: invalid tags='team=ml': must be a mapping of tag keys to values$",
    ),
    "ASG tags: log key as an ARN": (
        lambda s, i: _asg_tags(s, i, log_key="arn:aws:kms:x"),
        r"^P/X\d+: invalid log_key='arn:aws:kms:x': must be a kms.IKey",
    ),
    "ASG tags: a cluster name with a space": (
        lambda s, i: _asg_tags(s, i, cluster_name="ml platform"),
        r"^P/X\d+: invalid cluster_name='ml platform': must be an EKS cluster name",
    ),
    "node monitoring agent: version as a number": (
        lambda s, i: NodeMonitoringAgent(s["stack"], i, cluster=s["cluster"], version=1),
        r"^P/X\d+: invalid version=1: must be an add-on version",
    ),
    "size_lustre: a bool for the throughput": (
        lambda s, i: size_lustre(read_throughput_mbps=True, dataset_gib=1),
        r"^size_lustre: invalid read_throughput_mbps=True: must be a positive number of MB/s$",
    ),
    "thresholds: an infinite threshold": (
        lambda s, i: _monitoring(
            s, i, topic_key=s["keys"].data_key, thresholds=AlarmThresholds(ebs_queue_length=float("inf"))
        ),
        r"^P/X\d+: invalid thresholds.ebs_queue_length=inf: must be a finite number$",
    ),
    "monitoring: add_efs of an imported file system, named by its path": (
        lambda s, i: s["monitoring"].add_efs(
            SharedEfs.from_existing(s["stack"], i, file_system=s["efs"].file_system, requires_iam=True)
        ),
        r"^P/Monitoring: invalid shared='P/X\d+': must be a SharedEfs$",
    ),
    "monitoring: ignore a name": (
        lambda s, i: s["monitoring"].ignore("Lustre"),
        r"^P/Monitoring: invalid construct='Lustre': must be a construct",
    ),
    "monitoring: discover a name": (
        lambda s, i: s["monitoring"].discover("P"),
        r"^P/Monitoring: invalid scope='P': must be a construct",
    ),
    "catalog: database_name as a number": (
        lambda s, i: _catalog(s, i, database_name=5),
        r"^P/X\d+: invalid database_name=5: must be 1-255 lowercase letters",
    ),
    "catalog: grant_read to an ARN": (
        lambda s, i: _catalog(s, i).grant_read("arn:aws:iam::111111111111:role/analyst"),
        r"^P/X\d+: invalid grantee='arn:aws:iam::111111111111:role/analyst': must be an iam.IGrantable",
    ),
    # Karpenter pools
    "gpu pool: root volume of 0 GiB": (
        lambda s, i: _gpu_pool(s, i, root_volume_gib=0),
        r"^P/X\d+: invalid root_volume_gib=0: must be between 20 and 16384$",
    ),
    "gpu pool: root volume as a string": (
        lambda s, i: _gpu_pool(s, i, root_volume_gib="200"),
        r"^P/X\d+: invalid root_volume_gib='200': must be a whole number between 20 and 16384$",
    ),
    "gpu pool: efa as a string": (
        lambda s, i: _gpu_pool(s, i, efa="yes"),
        r"^P/X\d+: invalid efa='yes': must be True or False$",
    ),
    "gpu pool: gpu_limit as a string": (
        lambda s, i: _gpu_pool(s, i, gpu_limit="16"),
        r"^P/X\d+: invalid gpu_limit='16': must be a whole number between 1 and 1000000$",
    ),
    "gpu pool: weight as a string": (
        lambda s, i: _gpu_pool(s, i, weight="5"),
        r"^P/X\d+: invalid weight='5': must be a whole number between 1 and 100$",
    ),
    "gpu pool: weight 101, named on the pool": (
        lambda s, i: _gpu_pool(s, i, weight=101),
        r"^P/X\d+: invalid weight=101: must be between 1 and 100$",
    ),
    "gpu pool: a bad name, named on the pool (not the chart)": (
        lambda s, i: _gpu_pool(s, i, name="GPU Pool"),
        r"^P/X\d+: invalid name='GPU Pool': must be a DNS-1123 subdomain",
    ),
    "gpu pool: subnet as an id": (
        lambda s, i: _gpu_pool(s, i, subnet="subnet-1"),
        r"^P/X\d+: invalid subnet='subnet-1': must be an ec2.ISubnet",
    ),
    "gpu pool: consolidate_after as minutes": (
        lambda s, i: _gpu_pool(s, i, consolidate_after=15),
        r"^P/X\d+: invalid consolidate_after=15: must be an aws_cdk.Duration such as Duration.minutes\(15\)$",
    ),
    "gpu pool: consolidate_after not whole minutes": (
        lambda s, i: _gpu_pool(s, i, consolidate_after=Duration.seconds(90)),
        r"^P/X\d+: invalid consolidate_after='1 minute 30 seconds': must be a whole number of minutes$",
    ),
    "nvme pool: taint as a string": (
        lambda s, i: NvmeNodePool(
            s["stack"], i, karpenter=s["karpenter"], instance_types=["i4i.8xlarge"], taint="no"
        ),
        r"^P/X\d+: invalid taint='no': must be True or False$",
    ),
    "nvme pool: max_nodes 2.5": (
        lambda s, i: NvmeNodePool(
            s["stack"], i, karpenter=s["karpenter"], instance_types=["i4i.8xlarge"], max_nodes=2.5
        ),
        r"^P/X\d+: invalid max_nodes=2.5: must be a whole number, at least 1$",
    ),
    "karpenter: extra_values as a string": (
        lambda s, i: _on_new_cluster(Karpenter, "K", extra_values="x"),
        r"^K/Karpenter: invalid extra_values='x': must be a mapping of Helm values$",
    ),
    "karpenter: grant_volume_key with an ARN": (
        lambda s, i: s["karpenter"].grant_volume_key("arn:aws:kms:us-east-1:111111111111:key/k"),
        r"^P/Karpenter: invalid key='arn:aws:kms:.*': must be a kms.IKey",
    ),
    # Cluster Autoscaler
    "autoscaler: a duration as seconds": (
        lambda s, i: ClusterAutoscaler(s["stack"], i, cluster=s["cluster"], scale_down_unneeded_time=600),
        r"^P/X\d+: invalid scale_down_unneeded_time=600: must be an aws_cdk.Duration such as Duration.minutes",
    ),
    "autoscaler: a chain repeating an expander": (
        lambda s, i: ClusterAutoscaler(s["stack"], i, cluster=s["cluster"], expander="priority,priority"),
        r"^P/X\d+: invalid expander='priority,priority': must be one of .*, or several of them without repeats",
    ),
    # patterns
    "dataset: a node group prop named as the user passed it": (
        lambda s, i: _dataset(s, i, gpu_node_group_props={"max_size": 0}),
        r"^P/X\d+: invalid gpu_node_group_props.max_size=0: must be between 1 and 1000$",
    ),
    "dataset: a GPU type named as gpu_instance_types": (
        lambda s, i: _dataset(s, i, gpu_instance_types=["i4i.8xlarge"]),
        r"^P/X\d+: invalid gpu_instance_types='i4i.8xlarge': GpuNodeGroup needs GPU or accelerator",
    ),
    "dataset: dataset_bucket as a name": (
        lambda s, i: _dataset(s, i, dataset_bucket="acme-datasets"),
        r"^P/X\d+: invalid dataset_bucket='acme-datasets': must be an s3.IBucket",
    ),
    "dataset: subnet as an id": (
        lambda s, i: _dataset(s, i, subnet="subnet-1"),
        r"^P/X\d+: invalid subnet='subnet-1': must be an ec2.ISubnet",
    ),
    "dataset: karpenter as a name": (
        lambda s, i: _dataset(s, i, karpenter="karpenter"),
        r"^P/X\d+: invalid karpenter='karpenter': must be the cluster's Karpenter construct",
    ),
    "models: models_prefix as a number": (
        lambda s, i: _models(s, i, models_prefix=5),
        r"^P/X\d+: invalid models_prefix=5: must name a key prefix$",
    ),
    "models: model_bucket as a name": (
        lambda s, i: _models(s, i, model_bucket="acme-models"),
        r"^P/X\d+: invalid model_bucket='acme-models': must be an s3.IBucket",
    ),
    "models: access_point as an id": (
        lambda s, i: _models(s, i, access_point="fsap-0123456789abcdef0"),
        r"^P/X\d+: invalid access_point='fsap-0123456789abcdef0': must be an efs.IAccessPoint",
    ),
    "checkpoints: one node group, not a list": (
        lambda s, i: _checkpoints(s, i, scratch_node_groups=s["gpus"]),
        r"^P/X\d+: invalid scratch_node_groups=.*: must be a list of node groups or node pools .*, not one",
    ),
    "checkpoints: checkpoint_bucket as a name": (
        lambda s, i: _checkpoints(s, i, checkpoint_bucket="acme-ckpt", lifecycle=False),
        r"^P/X\d+: invalid checkpoint_bucket='acme-ckpt': must be an s3.IBucket",
    ),
    "checkpoints: prefix as a number": (
        lambda s, i: _checkpoints(s, i, prefix=5),
        r"^P/X\d+: invalid prefix=5: must name a key prefix",
    ),
    "checkpoints: lifecycle as a string": (
        lambda s, i: _checkpoints(s, i, lifecycle="no"),
        r"^P/X\d+: invalid lifecycle='no': must be True or False$",
    ),
    "lustre_volume_spec: a file system id for the store": (
        lambda s, i: lustre_volume_spec("fs-0123456789abcdef0", name="data", namespace="training"),
        r"^lustre_volume_spec: invalid store='fs-0123456789abcdef0': must be a LustreStore",
    ),
    # ClusterStorage and its charts
    "storage: one EFS class, not a list": (
        lambda s, i: _storage(efs_classes=EfsClassSpec(file_system_id="fs-12345678")),
        r"^C/Storage: invalid efs_classes=EfsClassSpec\(.*\): must be a list of EfsClassSpec, not one",
    ),
    "storage: one shared EFS, not a list": (
        lambda s, i: _storage(shared_efs=s["efs"]),
        r"^C/Storage: invalid shared_efs='P/Efs': must be a list of SharedEfs",
    ),
    "storage: lustre_class as a dict": (
        lambda s, i: _storage(lustre_class={"subnet_id": "subnet-12345678"}),
        r"^C/Storage: invalid lustre_class=\{'subnet_id': 'subnet-12345678'\}: must be a LustreClassSpec",
    ),
    "storage: local_volumes as a string": (
        lambda s, i: _storage(local_volumes="yes"),
        r"^C/Storage: invalid local_volumes='yes': must be True or False$",
    ),
    "storage: a namespace label key with a space": (
        lambda s, i: _storage(namespaces=[NamespaceSpec(name="training", labels={"cost center": "ml"})]),
        r"^C/Storage: invalid labels=\{'cost center': 'ml'\}: a label key's name must be 1-63 characters",
    ),
    "storage: a namespace label the chart sets from pod_security": (
        lambda s, i: _storage(
            namespaces=[
                NamespaceSpec(name="training", labels={"pod-security.kubernetes.io/enforce": "privileged"})
            ]
        ),
        r"^C/Storage: invalid labels=\{'pod-security.kubernetes.io/enforce': 'privileged'\}: is set by eks-ai-data",
    ),
    "storage: a team label value of 64 characters": (
        lambda s, i: _storage(
            teams=[TeamSpec(name="vision", uid=2000, gid=2000, labels={"owner": "a" * 64})]
        ),
        r"^C/Storage: invalid teams.labels=\{'owner': 'a{64}'\}: label values must be at most 63 characters",
    ),
    "storage: a team's pod_security_reason while restricted": (
        lambda s, i: _storage(
            teams=[TeamSpec(name="vision", uid=2000, gid=2000, pod_security_reason="GPUs")]
        ),
        r"^C/Storage: invalid teams.pod_security_reason='GPUs': applies only with pod_security='baseline'",
    ),
    "storage: add_static_volumes with one volume": (
        lambda s, i: s["storage"].add_static_volumes(
            i, lustre_volumes=lustre_volume_spec(s["lustre"], name=f"v-{i.lower()}", namespace="training")
        ),
        r"^P/Storage: invalid lustre_volumes=LustreVolumeSpec\(.*\): must be a list of LustreVolumeSpec, not one",
    ),
    "storage: add_service_accounts with one account": (
        lambda s, i: s["storage"].add_service_accounts(
            i, ServiceAccountSpec(name="reader", namespace="training")
        ),
        r"^P/Storage: invalid service_accounts=ServiceAccountSpec\(.*\): must be a list of ServiceAccountSpec",
    ),
    "drivers: versions as a string": (
        lambda s, i: _on_new_cluster(StorageDrivers, "D", versions="v1"),
        r"^D/StorageDrivers: invalid versions='v1': must be a mapping of add-on names to versions",
    ),
    "drivers: one toleration, not a list": (
        lambda s, i: _on_new_cluster(
            StorageDrivers,
            "D",
            tolerate_all_taints=False,
            extra_tolerations={"key": "team", "operator": "Exists"},
        ),
        r"^D/StorageDrivers: invalid extra_tolerations=\{'key': 'team', 'operator': 'Exists'\}: must be a list of "
        r"tolerations, not one",
    ),
    "monitoring: a container_insights_props value named as passed": (
        lambda s, i: (
            lambda stack, cluster: StorageMonitoring(
                stack,
                "Monitoring",
                topic_key=DataKeys(stack, "AlarmKey").data_key,
                discover=False,
                container_insights_props={"log_retention": 30},
            ).add_cluster(cluster)
        )(*_platform("M")[::3]),
        r"^M/Monitoring: invalid container_insights_props.log_retention=30: must be RetentionDays.<member>",
    ),
    "drivers: ebs as a string": (
        lambda s, i: _on_new_cluster(StorageDrivers, "D", ebs="no"),
        r"^D/StorageDrivers: invalid ebs='no': must be True or False$",
    ),
    "device plugins: EFA for a cluster name": (
        lambda s, i: efa_device_plugin("platform"),
        r"^efa_device_plugin: invalid cluster='platform': must be an AiCluster",
    ),
    "device plugins: Neuron types as a string": (
        lambda s, i: neuron_device_plugin(s["cluster"], "trn2.48xlarge"),
        r"^neuron_device_plugin: invalid instance_types='trn2.48xlarge': must be a list of instance type names",
    ),
    "imported EFS: access points as a list": (
        lambda s, i: SharedEfs.from_existing(
            s["stack"], i, file_system=s["efs"].file_system, requires_iam=True, access_points=["fsap-1"]
        ),
        r"^P/X\d+: invalid access_points=\['fsap-1'\]: must be a mapping of names to efs.IAccessPoint",
    ),
    # monitoring
    "monitoring: alarm_email as a list": (
        lambda s, i: _monitoring(s, i, topic_key=s["keys"].data_key, alarm_email=["ml@example.com"]),
        r"^P/X\d+: invalid alarm_email=\['ml@example.com'\]: must be an email address$",
    ),
    "monitoring: topic as an ARN": (
        lambda s, i: _monitoring(s, i, topic="arn:aws:sns:us-east-1:111111111111:alarms"),
        r"^P/X\d+: invalid topic='arn:aws:sns:.*': must be an sns.ITopic",
    ),
    "monitoring: topic_key as an ARN": (
        lambda s, i: _monitoring(s, i, topic_key="arn:aws:kms:x"),
        r"^P/X\d+: invalid topic_key='arn:aws:kms:x': must be a kms.IKey",
    ),
    "monitoring: discover as a string": (
        lambda s, i: _monitoring(s, i, topic_key=s["keys"].data_key, discover="no"),
        r"^P/X\d+: invalid discover='no': must be True or False$",
    ),
    "monitoring: add_bucket filter id with a space": (
        lambda s, i: s["monitoring"].add_bucket(s["bucket"].bucket, filter_id="all objects"),
        r"^P/Monitoring: invalid filter_id='all objects': must be 1-64 letters, digits, '.', '-' or '_'",
    ),
    "monitoring: add_bucket filter id of 65 characters": (
        lambda s, i: s["monitoring"].add_bucket(s["bucket"].bucket, filter_id="a" * 65),
        r"^P/Monitoring: invalid filter_id='a{65}': must be 1-64 letters",
    ),
    "container insights: log_retention as days": (
        lambda s, i: _on_new_cluster(ContainerInsights, "I", log_retention=30),
        r"^I/ContainerInsights: invalid log_retention=30: must be RetentionDays.<member>",
    ),
    "container insights: logs_key as an ARN": (
        lambda s, i: _on_new_cluster(ContainerInsights, "I", logs_key="arn:aws:kms:x"),
        r"^I/ContainerInsights: invalid logs_key='arn:aws:kms:x': must be a kms.IKey",
    ),
    # dataset catalog
    "catalog: key as an ARN": (
        lambda s, i: DatasetCatalog(s["stack"], i, key="arn:aws:kms:x"),
        r"^P/X\d+: invalid key='arn:aws:kms:x': must be a kms.IKey",
    ),
    "catalog: one dataset, not a list": (
        lambda s, i: _catalog(
            s, i, datasets=DatasetSpec(name="images", bucket=s["bucket"], prefix="images/")
        ),
        r"^P/X\d+: invalid datasets=DatasetSpec\(.*\): must be a list of DatasetSpec, not one",
    ),
    "catalog: a dataset's bucket as a name": (
        lambda s, i: _catalog(s, i, datasets=[DatasetSpec(name="images", bucket="acme", prefix="images/")]),
        r"^P/X\d+: invalid bucket='acme': must be an s3.IBucket",
    ),
    "catalog: a description of 2049 characters": (
        lambda s, i: _catalog(s, i, description="d" * 2049),
        r"^P/X\d+: invalid description='d{2049}': must be a string of at most 2048 characters",
    ),
    "catalog: a crawler every 4 minutes": (
        lambda s, i: _catalog(
            s,
            i,
            datasets=[
                DatasetSpec(
                    name="images", bucket=s["bucket"], prefix="images/", schedule="cron(0/4 * * * ? *)"
                )
            ],
        ),
        r"^P/X\d+: invalid schedule='cron\(0/4 \* \* \* \? \*\)': runs every 4 minute\(s\): Glue runs a crawler",
    ),
    "catalog: register_with_lake_formation as a string": (
        lambda s, i: _catalog(s, i, register_with_lake_formation="no"),
        r"^P/X\d+: invalid register_with_lake_formation='no': must be True or False$",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_wrong_kind_of_value_is_named_with_the_prop(s, case):
    build, message = CASES[case]
    with pytest.raises(EksAiDataValidationError, match=message):
        build(s, f"X{next(_ids)}")


ACCEPTED = {
    "autoscaler: a chain of expanders (CA 1.23+)": lambda s, i: _on_new_cluster(
        ClusterAutoscaler, "A", expander="priority,least-waste"
    ),
    "gpu pool: weight 100 and a 16384 GiB root volume": lambda s, i: _gpu_pool(
        s, i, weight=100, root_volume_gib=16384
    ),
    "catalog: a crawler every 5 minutes": lambda s, i: _catalog(
        s,
        i,
        datasets=[
            DatasetSpec(name="images", bucket=s["bucket"], prefix="images/", schedule="cron(0/5 * * * ? *)")
        ],
    ),
    "storage: a namespace label under app.kubernetes.io/ and an empty value": lambda s, i: _storage(
        namespaces=[NamespaceSpec(name="training", labels={"app.kubernetes.io/part-of": "ml", "tier": ""})]
    ),
    "monitoring: a filter id with '.', '-' and '_'": lambda s, i: s["monitoring"].add_bucket(
        s["bucket"].bucket, filter_id=f"Entire.Bucket-{i}_v2"
    ),
}


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_edge_values_aws_accepts_pass(s, case):
    ACCEPTED[case](s, f"A{next(_ids)}")

"""CloudWatch alarms and one dashboard for what a platform contains (:class:`StorageMonitoring`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import jsii
from aws_cdk import Annotations, ArnFormat, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct, IConstruct, IValidation

from .._validate import KEY, fail, require, require_bool, require_options, require_resource
from ..backup import DataBackupPlan
from ..bucket import DataBucket
from ..cluster import AiCluster
from ..cluster_interface import IAiCluster, require_ai_cluster
from ..csi import StorageDrivers
from ..efs import SharedEfs
from ..errors import EksAiDataValidationError, reported_by, shown
from ..imported_cluster import ImportedAiCluster
from ..keys import allow_alarm_notifications
from ..lustre import LustreStore
from ..nodegroups import GpuNodeGroup
from . import cluster_alarms, storage_alarms
from .container_insights import ContainerInsights, ContainerInsightsOptions
from .thresholds import AlarmThresholds

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: CloudWatch dashboard names: up to 255 letters, digits, '-' and '_' (PutDashboard API reference).
DASHBOARD_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
#: S3 metrics configuration ids (the alarms' FilterId dimension): "The ID has a 64 character limit and can only
#: contain letters, numbers, periods, dashes, and underscores" (S3 API reference, MetricsConfiguration Id)
METRICS_FILTER_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}\Z")
_CLUSTERS = (AiCluster, ImportedAiCluster)
_MONITORED = (LustreStore, SharedEfs, DataBucket, DataBackupPlan, GpuNodeGroup, *_CLUSTERS)


class StorageMonitoring(Construct):
    """Alarms on every data store, backup plan, accelerator node group and cluster of a platform, one dashboard,
    and an encrypted SNS topic for the notifications.

    What is monitored comes from the platform itself: with ``discover=True`` (the default) one walk of the stack's
    construct tree (``node.find_all()``, linear in its size) finds every :class:`~eks_ai_data.lustre.LustreStore`,
    :class:`~eks_ai_data.efs.SharedEfs`, :class:`~eks_ai_data.bucket.DataBucket` with request metrics,
    :class:`~eks_ai_data.backup.DataBackupPlan`, :class:`~eks_ai_data.nodegroups.GpuNodeGroup` and cluster, so a
    second file system gets its own alarms without a line of code; ``add_*`` methods take resources (imported
    ones too) explicitly, and :meth:`ignore` leaves one out. The walk happens when the construct is created (alarm
    resources cannot be added once synthesis has begun), so create it after the resources; a check when the app
    synthesizes walks once more and fails, naming them, if monitorable resources were created later and neither
    added nor ignored: nothing goes unmonitored silently.

    Per resource (thresholds: :class:`~eks_ai_data.observability.AlarmThresholds`, each default with its source):

    - FSx for Lustre: free capacity as a percent of ``StorageCapacity``, client throughput as a percent of the
      provisioned throughput, metadata operations against user-provisioned Metadata IOPS (``metadata_iops`` of
      :meth:`add_lustre`: a LustreStore does not expose them, and Automatic mode scales them itself), client
      connections on the dashboard (FSx documents no connection limit to alarm on).
    - EFS: throughput as a percent of ``PermittedThroughput``; ``PercentIOLimit`` in General Purpose mode;
      ``BurstCreditBalance`` in Bursting mode (each only where EFS reports it).
    - S3: 4xx and 5xx error rates from request metrics (``DataBucket(request_metrics=True)``: opt-in, they cost).
    - AWS Backup: failed and expired backup jobs of the plan's vault (the plan's own topic carries each job's
      details).
    - GPU and Neuron node groups: GPU memory (NVIDIA) and idle accelerators; per cluster: pending pods and EBS
      volume queue length. These come from Container Insights: a cluster gets a :class:`ContainerInsights`
      add-on unless ``container_insights=False`` (installed already), and the EBS CSI driver of the
      :class:`~eks_ai_data.csi.StorageDrivers` found with it gets ``node.enableMetrics``.

    Alarms notify :attr:`topic` when they go into ALARM and back to OK. The topic is encrypted with
    ``topic_key``; CloudWatch alarms need that key's policy to let ``cloudwatch.amazonaws.com`` use it, which is
    added when the key is managed in this app (``DataKeys.data_key``), and the topic policy admits only this
    account's alarms. SSL is enforced.

    :param topic_key: KMS key of the alarm topic (e.g. ``DataKeys.data_key``). Required unless ``topic`` is given.
    :param topic: an existing topic to notify instead (its key policy and topic policy are yours). Default: a new one.
    :param alarm_email: an address subscribed to the topic (it must confirm the subscription). Default: none.
    :param thresholds: Default: ``AlarmThresholds()``.
    :param discover: find the stack's resources (see above). Default: ``True``.
    :param container_insights: install the CloudWatch Observability add-on on each monitored cluster.
        Default: ``True``.
    :param container_insights_props: further :class:`ContainerInsights` props (``identity``, ``addon_version``,
        ``container_logs``, ``log_retention``). Default: none.
    :param dashboard_name: up to 255 letters, digits, ``-`` and ``_``. Default: generated by CloudFormation.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        topic_key: kms.IKey | None = None,
        topic: sns.ITopic | None = None,
        alarm_email: str | None = None,
        thresholds: AlarmThresholds | None = None,
        discover: bool = True,
        container_insights: bool = True,
        container_insights_props: ContainerInsightsOptions | None = None,
        dashboard_name: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.thresholds = thresholds if thresholds is not None else AlarmThresholds()
        if not isinstance(self.thresholds, AlarmThresholds):
            raise fail(self, "thresholds", self.thresholds, "must be an AlarmThresholds")
        self.thresholds.check(self)
        if topic is not None:
            require_resource(
                self, "topic", topic, "topic_arn", "an sns.ITopic (sns.Topic.from_topic_arn(...) for an ARN)"
            )
        if topic_key is not None:
            require_resource(self, "topic_key", topic_key, *KEY)
        require_bool(self, "discover", discover)
        require_bool(self, "container_insights", container_insights)
        if topic is not None and topic_key is not None:
            raise fail(
                self, "topic_key", topic_key.node.path, "applies only to the topic this construct creates"
            )
        if alarm_email is not None:
            require(
                self,
                isinstance(alarm_email, str) and bool(EMAIL.match(alarm_email)),
                "alarm_email",
                alarm_email,
                "must be an email address",
            )
        if dashboard_name is not None:
            require(
                self,
                isinstance(dashboard_name, str) and bool(DASHBOARD_NAME.match(dashboard_name)),
                "dashboard_name",
                dashboard_name,
                "must be 1-255 letters, digits, '-' or '_'",
            )
        if (
            isinstance(container_insights_props, Mapping)
            and container_insights_props
            and not container_insights
        ):
            raise fail(
                self,
                "container_insights_props",
                sorted(container_insights_props),
                "needs container_insights=True",
            )
        ci_props = require_options(
            self,
            "container_insights_props",
            container_insights_props,
            ContainerInsightsOptions,
            set_here=("cluster",),
            set_here_reason="must not set cluster (each monitored cluster)",
        )

        if topic is None:
            if topic_key is None:
                raise fail(self, "topic_key", None, "is required to encrypt the alarm topic (or pass topic=)")
            created = sns.Topic(
                self, "Topic", master_key=topic_key, enforce_ssl=True, display_name="eks-ai-data alarms"
            )
            created.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="AllowCloudWatchAlarms",
                    principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                    actions=["sns:Publish"],
                    resources=[created.topic_arn],
                    conditions={
                        "ArnLike": {
                            "aws:SourceArn": stack.format_arn(
                                service="cloudwatch",
                                resource="alarm",
                                resource_name="*",
                                arn_format=ArnFormat.COLON_RESOURCE_NAME,
                            )
                        },
                        "StringEquals": {"aws:SourceAccount": stack.account},
                    },
                )
            )
            if not allow_alarm_notifications(topic_key):
                Annotations.of(self).add_warning_v2(
                    "eks-ai-data:AlarmTopicKeyPolicy",
                    f"The key {topic_key.node.path} is not managed here: allow cloudwatch.amazonaws.com "
                    "kms:Decrypt and kms:GenerateDataKey* in its policy, or alarms cannot notify the topic.",
                )
            topic = created
        self.topic: sns.ITopic = topic
        self.subscription: sns.Subscription | None = None
        if alarm_email is not None:
            self.subscription = sns.Subscription(
                self, "Email", topic=topic, protocol=sns.SubscriptionProtocol.EMAIL, endpoint=alarm_email
            )
        self._action = cw_actions.SnsAction(topic)
        self.dashboard = cw.Dashboard(self, "Dashboard", dashboard_name=dashboard_name)
        #: Alarms by the construct path of the resource they watch.
        self.alarms: dict[str, list[cw.Alarm]] = {}
        #: The Container Insights add-on of each monitored cluster, by the cluster's construct path.
        self.container_insights: dict[str, ContainerInsights] = {}
        self._container_insights = container_insights
        self._ci_props = ci_props
        self._done: set[str] = set()
        self._ignored: set[str] = set()
        self._scopes: list[Construct] = []
        if discover:
            self.discover(stack)
        self.node.add_validation(_Coverage(self))

    # -- explicit selection --------------------------------------------------------------------------------
    def add_lustre(self, store: LustreStore, *, metadata_iops: int | None = None) -> None:
        """Alarms of one FSx for Lustre file system; ``metadata_iops``: its user-provisioned Metadata IOPS."""
        if metadata_iops is not None:
            require(
                self,
                isinstance(metadata_iops, int)
                and not isinstance(metadata_iops, bool)
                and metadata_iops >= 1500,
                "metadata_iops",
                metadata_iops,
                "must be the file system's user-provisioned Metadata IOPS (1500 or more)",
            )
        if self._claim(store, LustreStore, "store"):
            storage_alarms.lustre(self, store, metadata_iops=metadata_iops)

    def add_efs(self, shared: SharedEfs) -> None:
        """Alarms of one SharedEfs (the modes are read from its template)."""
        if self._claim(shared, SharedEfs, "shared"):
            storage_alarms.efs_alarms(self, shared)

    def add_bucket(self, bucket: DataBucket | s3.IBucket, *, filter_id: str | None = None) -> None:
        """Error-rate alarms from the request metrics of a DataBucket (``request_metrics=True``) or of any bucket
        whose metrics configuration ``filter_id`` names."""
        if isinstance(bucket, DataBucket):
            filter_id = filter_id or bucket.request_metrics_filter_id
            name = bucket.bucket_name
        else:
            found = getattr(bucket, "bucket_name", None)
            if found is None:
                raise fail(self, "bucket", bucket, "must be a DataBucket or an s3.IBucket")
            name = found
        if filter_id is not None:
            require(
                self,
                isinstance(filter_id, str) and bool(METRICS_FILTER_ID.match(filter_id)),
                "filter_id",
                filter_id,
                "must be 1-64 letters, digits, '.', '-' or '_' (an S3 metrics configuration id)",
            )
        if filter_id is None:
            raise fail(
                self,
                "filter_id",
                None,
                f"{bucket.node.path} has no request metrics: use DataBucket(request_metrics=True) or name the "
                "FilterId of the bucket's metrics configuration",
            )
        if self._claim(bucket, object, "bucket"):
            storage_alarms.bucket(self, bucket, name, filter_id)

    def add_backup_plan(self, plan: DataBackupPlan) -> None:
        """Failed and expired job alarms of a DataBackupPlan's vault."""
        if self._claim(plan, DataBackupPlan, "plan"):
            storage_alarms.backup_plan(self, plan)

    def add_node_group(self, group: GpuNodeGroup) -> None:
        """Accelerator alarms of a GpuNodeGroup (its cluster is added too)."""
        if not isinstance(group, GpuNodeGroup):
            raise fail(self, "group", getattr(group, "node", group), "must be a GpuNodeGroup")
        self.add_cluster(group.cluster)
        if self._claim(group, GpuNodeGroup, "group"):
            cluster_alarms.node_group(self, group, group.cluster.cluster.cluster_name)

    def add_cluster(self, cluster: IAiCluster) -> None:
        """Pending-pod and EBS alarms of a cluster, and (``container_insights=True``) its CloudWatch add-on."""
        cluster = require_ai_cluster(self, "cluster", cluster)
        if not self._claim(cluster, object, "cluster"):
            return
        if self._container_insights:
            index = len(self.container_insights)
            # the add-on's own checks, reported here as the container_insights_props the user passed
            with reported_by(self.node.path, {k: f"container_insights_props.{k}" for k in self._ci_props}):
                self.container_insights[cluster.node.path] = ContainerInsights(
                    self,
                    "ContainerInsights" if index == 0 else f"ContainerInsights{index + 1}",
                    cluster=cluster,
                    **self._ci_props,
                )
        cluster_alarms.cluster(self, cluster)

    def ignore(self, construct: IConstruct) -> None:
        """Leave ``construct`` unmonitored (neither discovered nor reported by the synth-time check)."""
        require_resource(
            self, "construct", construct, "node", "a construct (e.g. a LustreStore or a DataBucket)"
        )
        self._ignored.add(construct.node.path)

    # -- discovery -----------------------------------------------------------------------------------------
    def discover(self, scope: Construct) -> None:
        """Monitor every monitorable resource under ``scope`` (one walk of its tree) that is not ignored."""
        require_resource(
            self, "scope", scope, "node", "a construct (e.g. a Stack) whose tree holds the resources"
        )
        self._scopes.append(scope)
        drivers: list[StorageDrivers] = []
        for construct in self._walk(scope):
            if isinstance(construct, StorageDrivers):
                drivers.append(construct)
            elif construct.node.path in self._done:
                continue
            elif isinstance(construct, LustreStore):
                self.add_lustre(construct)
            elif isinstance(construct, SharedEfs):
                self.add_efs(construct)
            elif isinstance(construct, DataBucket):
                if construct.request_metrics_filter_id is not None:
                    self.add_bucket(construct)
            elif isinstance(construct, DataBackupPlan):
                self.add_backup_plan(construct)
            elif isinstance(construct, GpuNodeGroup):
                self.add_node_group(construct)
            elif isinstance(construct, _CLUSTERS):
                self.add_cluster(construct)
        for found in drivers:
            insights = self.container_insights.get(found.cluster.node.path)
            if insights is not None:
                insights.enable_ebs_metrics(found)

    def unmonitored(self) -> list[str]:
        """Paths of monitorable resources under the discovered scopes that are neither monitored nor ignored."""
        missing = []
        for scope in self._scopes:
            for construct in self._walk(scope):
                if not isinstance(construct, _MONITORED) or construct.node.path in self._done:
                    continue
                if isinstance(construct, DataBucket) and construct.request_metrics_filter_id is None:
                    continue
                missing.append(construct.node.path)
        return sorted(set(missing))

    # -- what the alarm builders call ------------------------------------------------------------------------
    def alarm(
        self,
        owner: IConstruct,
        kind: str,
        metric: cw.IMetric,
        *,
        threshold: float,
        comparison: cw.ComparisonOperator,
        periods: int,
        description: str,
        missing: cw.TreatMissingData = cw.TreatMissingData.NOT_BREACHING,
    ) -> cw.Alarm:
        """An alarm on ``metric`` that breaches ``periods`` periods in a row, notifying the topic."""
        home = Stack.of(owner)
        # each path is a round trip to the jsii kernel: asked once
        owner_path, home_path = owner.node.path, home.node.path
        relative = owner_path[len(home_path) + 1 :] if home_path else owner_path
        prefix = "" if home is Stack.of(self) else home.stack_name
        cid = re.sub(r"[^A-Za-z0-9]", "", prefix + relative) + kind
        alarm = cw.Alarm(
            self,
            cid,
            metric=metric,
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=periods,
            datapoints_to_alarm=periods,
            treat_missing_data=missing,
            alarm_description=description,
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.alarms.setdefault(owner_path, []).append(alarm)
        return alarm

    def row(self, title: str, widgets: list[cw.IWidget], alarms: list[cw.Alarm]) -> None:
        """A dashboard row: a title, the resource's graphs and the state of its alarms."""
        self.dashboard.add_widgets(cw.TextWidget(markdown=f"### {title}", width=24, height=1))
        self.dashboard.add_widgets(
            *widgets, cw.AlarmStatusWidget(alarms=alarms, title="Alarms", width=24, height=2)
        )

    # -- helpers -------------------------------------------------------------------------------------------
    def _claim(self, construct: Any, kind: type[Any], prop: str) -> bool:
        if not isinstance(construct, kind) or not hasattr(construct, "node"):
            raise fail(self, prop, shown(construct), f"must be a {kind.__name__}")
        path = construct.node.path
        if path in self._ignored or path in self._done:
            return False
        if Stack.of(construct) is not Stack.of(self) and not isinstance(construct, _CLUSTERS):
            Annotations.of(self).add_info(f"{path} lives in another stack: its alarms are created here")
        self._done.add(path)
        return True

    def _walk(self, scope: Construct) -> Iterable[IConstruct]:
        """The monitorable resources (and storage drivers) under ``scope``, none of this construct's own: a type
        check first, so the walk stays one pass of cheap checks over the tree."""
        own = self.node.path + "/"
        return (
            c
            for c in scope.node.find_all()
            if isinstance(c, (*_MONITORED, StorageDrivers)) and not c.node.path.startswith(own)
        )


@jsii.implements(IValidation)
class _Coverage:
    """At synth time: no monitorable resource of the discovered scopes is left out silently."""

    def __init__(self, monitoring: StorageMonitoring) -> None:
        self._monitoring = monitoring

    def validate(self) -> list[str]:
        missing = self._monitoring.unmonitored()
        errors = []
        if missing:
            errors.append(
                str(
                    EksAiDataValidationError(
                        self._monitoring.node.path,
                        "discover",
                        missing,
                        "these were created after the monitoring construct: call add_lustre/add_efs/add_bucket/"
                        "add_backup_plan/add_node_group/add_cluster for them, ignore() them, or create the "
                        "monitoring last",
                    )
                )
            )
        if not self._monitoring.alarms:
            errors.append(
                str(
                    EksAiDataValidationError(
                        self._monitoring.node.path,
                        "resources",
                        [],
                        "must monitor at least one resource (discover found none and no add_* was called)",
                    )
                )
            )
        return errors

"""Pinned versions of what scales and equips accelerated nodes (layer 1: facts, no CDK import).

Every pin names its upstream source (a file at a tag or commit of the project's repository, or an AWS
document). Checked 2026-11 against the snapshots named below; nothing is looked up at synth time.

- Cluster Autoscaler: Helm chart ``cluster-autoscaler`` 9.59.0 from ``https://kubernetes.github.io/autoscaler``
  (kubernetes/autoscaler tag ``cluster-autoscaler-chart-9.59.0``,
  ``cluster-autoscaler/charts/cluster-autoscaler/Chart.yaml``: appVersion 1.35.0). The chart's default image tag
  is v1.35.0 whatever the cluster runs, and "we recommend that users always use the latest Cluster Autoscaler
  release that corresponds to the minor version of Kubernetes" (``cluster-autoscaler/README.md``, Releases), so
  the image tag is always set per Kubernetes minor: the newest ``cluster-autoscaler-1.MINOR.PATCH`` tag of each
  minor (tags ``cluster-autoscaler-1.33.6``, ``-1.34.5``, ``-1.35.2``, ``-1.36.1``).
- Karpenter: charts ``oci://public.ecr.aws/karpenter/karpenter`` and ``.../karpenter-crd`` 1.14.1
  (aws/karpenter-provider-aws ``charts/karpenter/Chart.yaml`` and ``charts/karpenter-crd/Chart.yaml`` on main
  after the v1.14.1 release; image ``public.ecr.aws/karpenter/controller:1.14.1``). Kubernetes support:
  ``website/content/en/docs/upgrading/compatibility.md`` (1.36 needs Karpenter >= 1.13; 1.14 supports up to 1.36;
  1.33 needs >= 1.5).
- EFA device plugin: chart ``aws-efa-k8s-device-plugin`` v0.5.30 (image v0.5.20) from ``https://aws.github.io/eks-charts``
  (aws/eks-charts ``stable/aws-efa-k8s-device-plugin/Chart.yaml``). Its default image is in the us-west-2
  registry, so the chart's ``image.repository`` is set to the stack's Region (:data:`EKS_REGISTRY_ACCOUNTS`).
  No EKS add-on installs it: the EKS user guide (``ml/node-efa.adoc``) installs this chart.
- Neuron device plugin: chart ``oci://public.ecr.aws/neuron/neuron-helm-chart`` 1.10.0, whose device plugin
  image is ``public.ecr.aws/neuron/neuron-device-plugin:2.32.0.0``. UNVERIFIED against the registry (no access
  offline): the version and its default values are those of a published ``helm show values ... --version 1.10.0``
  transcript (2026-09); aws-neuron/neuron-helm-charts on GitHub has the templates (``device-plugin-daemonset.yaml``:
  ``nodeSelector`` and ``tolerations`` are rendered as given, the affinity from ``neuronInstances``). No EKS add-on
  installs it ("you must install the Neuron Kubernetes device plugin", EKS user guide ml-eks-k8s-device-plugin).
- Node monitoring agent: the EKS add-on ``eks-node-monitoring-agent`` ("doesn't require additional permissions",
  EKS user guide ``workloads/eks-add-ons.adoc``; source aws/eks-node-monitoring-agent).
- AL2023 EKS AMIs for Karpenter's ``al2023@<version>`` alias: release v20260714 (awslabs/amazon-eks-ami
  ``CHANGELOG.md``: AL2023 NVIDIA, Neuron and standard AMIs for Kubernetes 1.33 to 1.36).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChartPin:
    """A Helm chart at a pinned version: ``repository`` is a chart repository URL or the ``oci://`` chart itself."""

    repository: str
    chart: str
    version: str


# -- Cluster Autoscaler ------------------------------------------------------------------------------
CLUSTER_AUTOSCALER_CHART = ChartPin("https://kubernetes.github.io/autoscaler", "cluster-autoscaler", "9.59.0")
CLUSTER_AUTOSCALER_IMAGE = "registry.k8s.io/autoscaling/cluster-autoscaler"
#: Newest Cluster Autoscaler release per Kubernetes minor (its image tag).
CLUSTER_AUTOSCALER_RELEASES: dict[str, str] = {
    "1.33": "v1.33.6",
    "1.34": "v1.34.5",
    "1.35": "v1.35.2",
    "1.36": "v1.36.1",
}

# -- Karpenter ----------------------------------------------------------------------------------------
KARPENTER_VERSION = "1.14.1"
KARPENTER_CHART = ChartPin("oci://public.ecr.aws/karpenter/karpenter", "karpenter", KARPENTER_VERSION)
KARPENTER_CRD_CHART = ChartPin(
    "oci://public.ecr.aws/karpenter/karpenter-crd", "karpenter-crd", KARPENTER_VERSION
)
#: Kubernetes minors Karpenter 1.14 supports among those the library supports.
KARPENTER_KUBERNETES_VERSIONS = ("1.33", "1.34", "1.35", "1.36")
#: The AL2023 EKS AMI release Karpenter's EC2NodeClass alias pins (``al2023@v20260714``).
AL2023_AMI_RELEASE = "v20260714"

# -- device plugins -----------------------------------------------------------------------------------
EFA_DEVICE_PLUGIN_CHART = ChartPin("https://aws.github.io/eks-charts", "aws-efa-k8s-device-plugin", "v0.5.30")
EFA_DEVICE_PLUGIN_IMAGE_TAG = "v0.5.20"
EFA_DEVICE_PLUGIN_REPOSITORY = "eks/aws-efa-k8s-device-plugin"

NEURON_CHART = ChartPin("oci://public.ecr.aws/neuron/neuron-helm-chart", "neuron-helm-chart", "1.10.0")
NEURON_DEVICE_PLUGIN_IMAGE = "public.ecr.aws/neuron/neuron-device-plugin:2.32.0.0"
#: The chart's own ``neuronInstances`` (1.10.0): the device plugin's node affinity admits these types; the
#: library adds the types of its Neuron node groups (a type registered with the catalog may be newer).
NEURON_CHART_INSTANCES = (
    "trn1.2xlarge",
    "trn1.32xlarge",
    "trn1n.32xlarge",
    "trn2.3xlarge",
    "trn2.48xlarge",
    "trn2u.48xlarge",
    "trn3.48xlarge",
    "trn3n.48xlarge",
    "trn3en.24xlarge",
    "inf1.xlarge",
    "inf1.2xlarge",
    "inf1.6xlarge",
    "inf1.24xlarge",
    "inf2.xlarge",
    "inf2.8xlarge",
    "inf2.24xlarge",
    "inf2.48xlarge",
)

# -- node health --------------------------------------------------------------------------------------
NODE_MONITORING_AGENT_ADDON = "eks-node-monitoring-agent"

# -- registries ---------------------------------------------------------------------------------------
#: The account of the Amazon EKS image registry in each Region (``<account>.dkr.ecr.<region>.<url suffix>``),
#: EKS user guide ``workloads/add-ons-images.adoc`` ("View Amazon container image registries for Amazon EKS
#: add-ons"). A Region missing here fails the deployment (CloudFormation finds no mapping) rather than pulling
#: from a wrong registry.
EKS_REGISTRY_ACCOUNTS: dict[str, str] = {
    "af-south-1": "877085696533",
    "ap-east-1": "800184023465",
    "ap-northeast-1": "602401143452",
    "ap-northeast-2": "602401143452",
    "ap-northeast-3": "602401143452",
    "ap-south-1": "602401143452",
    "ap-south-2": "900889452093",
    "ap-southeast-1": "602401143452",
    "ap-southeast-2": "602401143452",
    "ap-southeast-3": "296578399912",
    "ap-southeast-4": "491585149902",
    "ca-central-1": "602401143452",
    "ca-west-1": "761377655185",
    "cn-north-1": "918309763551",
    "cn-northwest-1": "961992271922",
    "eu-central-1": "602401143452",
    "eu-central-2": "900612956339",
    "eu-north-1": "602401143452",
    "eu-south-1": "590381155156",
    "eu-south-2": "455263428931",
    "eu-west-1": "602401143452",
    "eu-west-2": "602401143452",
    "eu-west-3": "602401143452",
    "il-central-1": "066635153087",
    "me-central-1": "759879836304",
    "me-south-1": "558608220178",
    "sa-east-1": "602401143452",
    "us-east-1": "602401143452",
    "us-east-2": "602401143452",
    "us-gov-east-1": "151742754352",
    "us-gov-west-1": "013241004608",
    "us-west-1": "602401143452",
    "us-west-2": "602401143452",
}


def cluster_autoscaler_image_tag(kubernetes_version: str) -> str | None:
    """The Cluster Autoscaler image tag for a Kubernetes minor (``"1.36"`` -> ``"v1.36.1"``), or ``None``."""
    return CLUSTER_AUTOSCALER_RELEASES.get(kubernetes_version)


def karpenter_supports(kubernetes_version: str) -> bool:
    """True when the pinned Karpenter supports Kubernetes ``kubernetes_version`` (``"1.36"``)."""
    return kubernetes_version in KARPENTER_KUBERNETES_VERSIONS


def al2023_alias(release: str = AL2023_AMI_RELEASE) -> str:
    """Karpenter's AMI alias for an AL2023 release (``al2023@v20260714``): Karpenter picks the standard, NVIDIA or
    Neuron variant of that release for each instance type (aws/karpenter-provider-aws
    ``pkg/providers/amifamily/al2023.go``)."""
    return f"al2023@{release}"

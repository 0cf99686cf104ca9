#!/usr/bin/env node
// The cdk-eks-blueprints app that `make bench` compares the eks-ai-data reference app with: one stack with
// an EKS cluster, one GPU managed node group, the VPC CNI, CoreDNS, kube-proxy and EBS CSI managed add-ons,
// the EFS CSI driver and NVIDIA GPU operator Helm add-ons, and an EFS file system.
//
// Plain JavaScript (no TypeScript compile step), so the figure is what the Blueprints library and
// aws-cdk-lib cost in Node.js, the lowest a Blueprints user pays. Every add-on version is pinned: a core
// add-on left at "auto" would call the EKS DescribeAddonVersions API at synth time (core-addon/index.js,
// provideVersion), and this app must synthesize offline. The account and Region are placeholders; the
// availability zones come from cdk.json context, so nothing is looked up.
"use strict";

const cdk = require("aws-cdk-lib");
const ec2 = require("aws-cdk-lib/aws-ec2");
const eks = require("aws-cdk-lib/aws-eks");
const blueprints = require("@aws-quickstart/eks-blueprints");

const ACCOUNT = "123456789012";
const REGION = "us-east-1";
const VERSION = eks.KubernetesVersion.V1_35; // the newest version the pinned Blueprints maps add-ons for
const EFS_NAME = "shared-efs";

async function main() {
  const app = new cdk.App();
  const clusterProvider = new blueprints.GenericClusterProvider({
    version: VERSION,
    managedNodeGroups: [
      {
        id: "gpu",
        instanceTypes: [new ec2.InstanceType("g6e.12xlarge")],
        amiType: eks.NodegroupAmiType.AL2023_X86_64_NVIDIA,
        minSize: 0,
        desiredSize: 0,
        maxSize: 4,
        nodeGroupSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      },
    ],
  });
  await blueprints.EksBlueprint.builder()
    .account(ACCOUNT)
    .region(REGION)
    .version(VERSION)
    .clusterProvider(clusterProvider)
    .resourceProvider(blueprints.GlobalResources.Vpc, new blueprints.VpcProvider())
    .resourceProvider(EFS_NAME, new blueprints.CreateEfsFileSystemProvider({ name: EFS_NAME }))
    .addOns(
      new blueprints.addons.VpcCniAddOn({ version: "v1.21.1-eksbuild.1" }),
      new blueprints.addons.CoreDnsAddOn("v1.13.2-eksbuild.3"),
      new blueprints.addons.KubeProxyAddOn("v1.35.0-eksbuild.2"),
      new blueprints.addons.EbsCsiDriverAddOn({ version: "v1.57.1-eksbuild.1" }),
      new blueprints.addons.EfsCsiDriverAddOn(),
      new blueprints.addons.GpuOperatorAddon(),
    )
    .buildAsync(app, "BlueprintsGpu");
  app.synth();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

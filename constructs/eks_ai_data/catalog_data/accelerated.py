"""Accelerated instance types: NVIDIA GPUs and AWS Neuron devices (layer 1: no CDK import).

One row per instance type. Columns, in order:

``name, vCPUs, memory GiB, architecture, accelerator kind, accelerator model, devices,
GiB per device (published), MiB per device (DescribeInstanceTypes), share of one GPU per device,
Neuron cores per device, NVMe instance-store volumes, GB per volume, max EFA interfaces``

Sources:

- vCPUs, memory, architecture, device counts, MiB per device, instance store and EFA:
  DescribeInstanceTypes (``VCpuInfo.DefaultVCpus``, ``MemoryInfo``, ``ProcessorInfo``,
  ``GpuInfo.Gpus[].LogicalGpuCount`` / ``NeuronInfo.NeuronDevices[].Count``, ``MemoryInfo.SizeInMiB``,
  ``InstanceStorageInfo.Disks``, ``NetworkInfo.EfaInfo.MaximumEfaInterfaces``), as the copy shipped by
  moto 5.2.5 (``moto/ec2/resources/instance_types.json.gz``) reports it; ``tests/test_catalog_crosscheck.py``
  holds every row to that data.
- GiB per device: the figure AWS publishes per GPU / chip in the EC2 Instance Types guide
  (https://docs.aws.amazon.com/ec2/latest/instancetypes/ac.html): A10G and L4 24 GiB, L40S 48 GiB,
  H200 141 GiB, and so on. DescribeInstanceTypes reports the usable memory in MiB, a little less
  (A10G 22888 MiB = 22.35 GiB); both are kept, in separate columns.
- Device counts are what the device plugins advertise: ``nvidia.com/gpu`` per GPU and
  ``aws.amazon.com/neuron`` per Neuron device (chip).
- Fractional GPUs (g6f, gr6f): AWS partitions one L4 with NVIDIA vGPU; the guest, and so the NVIDIA
  device plugin, sees ONE GPU (``nvidia.com/gpu: 1``, nvidia-smi shows e.g. ``NVIDIA L4-12Q``), with
  the slice's memory. DescribeInstanceTypes reports ``Count: 0``, ``LogicalGpuCount: 1`` and
  ``GpuPartitionSize`` (0.125, 0.25, 0.5): the catalog's device count is the logical count and the
  share column is the partition size. The EKS AL2023 NVIDIA AMIs ship the GRID driver these need
  since release v20250610 (https://github.com/awslabs/amazon-eks-ami/issues/2443).
- Neuron cores per device: ``NeuronInfo.NeuronDevices[].CoreInfo.Count`` (physical NeuronCores:
  Inferentia 4, Inferentia2 and Trainium 2, Trainium2 8), as the AWS Neuron documentation lists them.
- Where AWS's documentation and DescribeInstanceTypes disagree, the row follows the documentation and
  the cross-check test names the difference:
  Trainium2 has 96 GiB of HBM per chip (trn2.48xlarge: 16 chips, 1.5 TB; EC2 Instance Types guide),
  where DescribeInstanceTypes reports 524288 MiB per device; DescribeInstanceTypes carries no
  ``NeuronInfo`` for trn2u.48xlarge (the Trn2 UltraServer node: the same 16 Trainium2 as trn2.48xlarge).
- Model names are Kubernetes label values (the node groups label nodes with them): DescribeInstanceTypes'
  name with spaces as dashes (``RTX PRO 4500`` -> ``RTX-PRO-4500``); ``T4G`` for g5g (API: ``T4g``).
- B200 180 GiB: AWS publishes 1,440 GB of GPU memory for the 8 GPUs of p6-b200.48xlarge; B300 268 GiB:
  2.1 TB for the 8 GPUs of p6-b300.48xlarge (DescribeInstanceTypes: 183359 and 275040 MiB).

Families left out, on purpose (register them with :func:`eks_ai_data.catalog.register` if needed):
p3dn (NVIDIA V100: CUDA 13 no longer supports Volta), dl2q (Qualcomm AI100), g4ad (AMD Radeon) and
dl1 (Intel Gaudi; neither is in DescribeInstanceTypes data any more): no EKS accelerated AMI or device
plugin this project deploys serves them, so the catalog cannot describe what their nodes advertise;
f2 (FPGA) and vt1 (media); p6e-gb200.36xlarge (sold only as UltraServer Capacity Blocks, not in
moto's data, and its per-instance facts could not be checked here).
"""

from __future__ import annotations

AcceleratedRow = tuple[str, int, float, str, str, str, int, int, int, float, int, int, int, int]

# fmt: off
ROWS: tuple[AcceleratedRow, ...] = (
    # --- NVIDIA, training and large inference (P) ---
    # P4d / P4de: A100 (40 GiB / 80 GiB).
    ("p4d.24xlarge", 96, 1152, "x86_64", "nvidia", "A100", 8, 40, 40960, 1.0, 0, 8, 1000, 4),
    ("p4de.24xlarge", 96, 1152, "x86_64", "nvidia", "A100", 8, 80, 81920, 1.0, 0, 8, 1000, 4),
    # P5 / P5e / P5en: H100 (80 GiB) / H200 (141 GiB).
    ("p5.4xlarge", 16, 256, "x86_64", "nvidia", "H100", 1, 80, 81920, 1.0, 0, 1, 3800, 1),
    ("p5.48xlarge", 192, 2048, "x86_64", "nvidia", "H100", 8, 80, 81920, 1.0, 0, 8, 3800, 32),
    ("p5e.48xlarge", 192, 2048, "x86_64", "nvidia", "H200", 8, 141, 144384, 1.0, 0, 8, 3800, 32),
    ("p5en.48xlarge", 192, 2048, "x86_64", "nvidia", "H200", 8, 141, 144384, 1.0, 0, 8, 3800, 16),
    # P6-B200 / P6-B300: Blackwell B200 / B300.
    ("p6-b200.48xlarge", 192, 2048, "x86_64", "nvidia", "B200", 8, 180, 183359, 1.0, 0, 8, 3800, 8),
    ("p6-b300.48xlarge", 192, 4096, "x86_64", "nvidia", "B300", 8, 268, 275040, 1.0, 0, 8, 3800, 16),
    # --- NVIDIA, inference, graphics and small training (G) ---
    # G4dn: T4 (16 GiB).
    ("g4dn.xlarge", 4, 16, "x86_64", "nvidia", "T4", 1, 16, 16384, 1.0, 0, 1, 125, 0),
    ("g4dn.2xlarge", 8, 32, "x86_64", "nvidia", "T4", 1, 16, 16384, 1.0, 0, 1, 225, 0),
    ("g4dn.4xlarge", 16, 64, "x86_64", "nvidia", "T4", 1, 16, 16384, 1.0, 0, 1, 225, 0),
    ("g4dn.8xlarge", 32, 128, "x86_64", "nvidia", "T4", 1, 16, 16384, 1.0, 0, 1, 900, 1),
    ("g4dn.12xlarge", 48, 192, "x86_64", "nvidia", "T4", 4, 16, 16384, 1.0, 0, 1, 900, 1),
    ("g4dn.16xlarge", 64, 256, "x86_64", "nvidia", "T4", 1, 16, 16384, 1.0, 0, 1, 900, 1),
    ("g4dn.metal", 96, 384, "x86_64", "nvidia", "T4", 8, 16, 16384, 1.0, 0, 2, 900, 1),
    # G5: A10G (24 GiB).
    ("g5.xlarge", 4, 16, "x86_64", "nvidia", "A10G", 1, 24, 22888, 1.0, 0, 1, 250, 0),
    ("g5.2xlarge", 8, 32, "x86_64", "nvidia", "A10G", 1, 24, 22888, 1.0, 0, 1, 450, 0),
    ("g5.4xlarge", 16, 64, "x86_64", "nvidia", "A10G", 1, 24, 22888, 1.0, 0, 1, 600, 0),
    ("g5.8xlarge", 32, 128, "x86_64", "nvidia", "A10G", 1, 24, 22888, 1.0, 0, 1, 900, 1),
    ("g5.12xlarge", 48, 192, "x86_64", "nvidia", "A10G", 4, 24, 22888, 1.0, 0, 1, 3800, 1),
    ("g5.16xlarge", 64, 256, "x86_64", "nvidia", "A10G", 1, 24, 22888, 1.0, 0, 1, 1900, 1),
    ("g5.24xlarge", 96, 384, "x86_64", "nvidia", "A10G", 4, 24, 22888, 1.0, 0, 1, 3800, 1),
    ("g5.48xlarge", 192, 768, "x86_64", "nvidia", "A10G", 8, 24, 22888, 1.0, 0, 2, 3800, 1),
    # G5g: AWS Graviton2 (arm64) with T4G (16 GiB); EBS only, no EFA.
    ("g5g.xlarge", 4, 8, "arm64", "nvidia", "T4G", 1, 16, 16384, 1.0, 0, 0, 0, 0),
    ("g5g.2xlarge", 8, 16, "arm64", "nvidia", "T4G", 1, 16, 16384, 1.0, 0, 0, 0, 0),
    ("g5g.4xlarge", 16, 32, "arm64", "nvidia", "T4G", 1, 16, 16384, 1.0, 0, 0, 0, 0),
    ("g5g.8xlarge", 32, 64, "arm64", "nvidia", "T4G", 1, 16, 16384, 1.0, 0, 0, 0, 0),
    ("g5g.16xlarge", 64, 128, "arm64", "nvidia", "T4G", 2, 16, 16384, 1.0, 0, 0, 0, 0),
    ("g5g.metal", 64, 128, "arm64", "nvidia", "T4G", 2, 16, 16384, 1.0, 0, 0, 0, 0),
    # G6: L4 (24 GiB).
    ("g6.xlarge", 4, 16, "x86_64", "nvidia", "L4", 1, 24, 22888, 1.0, 0, 1, 250, 0),
    ("g6.2xlarge", 8, 32, "x86_64", "nvidia", "L4", 1, 24, 22888, 1.0, 0, 1, 450, 0),
    ("g6.4xlarge", 16, 64, "x86_64", "nvidia", "L4", 1, 24, 22888, 1.0, 0, 1, 600, 0),
    ("g6.8xlarge", 32, 128, "x86_64", "nvidia", "L4", 1, 24, 22888, 1.0, 0, 2, 450, 1),
    ("g6.12xlarge", 48, 192, "x86_64", "nvidia", "L4", 4, 24, 22888, 1.0, 0, 4, 940, 1),
    ("g6.16xlarge", 64, 256, "x86_64", "nvidia", "L4", 1, 24, 22888, 1.0, 0, 2, 940, 1),
    ("g6.24xlarge", 96, 384, "x86_64", "nvidia", "L4", 4, 24, 22888, 1.0, 0, 4, 940, 1),
    ("g6.48xlarge", 192, 768, "x86_64", "nvidia", "L4", 8, 24, 22888, 1.0, 0, 8, 940, 1),
    # G6e: L40S (48 GiB).
    ("g6e.xlarge", 4, 32, "x86_64", "nvidia", "L40S", 1, 48, 45776, 1.0, 0, 1, 250, 0),
    ("g6e.2xlarge", 8, 64, "x86_64", "nvidia", "L40S", 1, 48, 45776, 1.0, 0, 1, 450, 0),
    ("g6e.4xlarge", 16, 128, "x86_64", "nvidia", "L40S", 1, 48, 45776, 1.0, 0, 1, 600, 0),
    ("g6e.8xlarge", 32, 256, "x86_64", "nvidia", "L40S", 1, 48, 45776, 1.0, 0, 2, 450, 1),
    ("g6e.12xlarge", 48, 384, "x86_64", "nvidia", "L40S", 4, 48, 45776, 1.0, 0, 2, 1900, 1),
    ("g6e.16xlarge", 64, 512, "x86_64", "nvidia", "L40S", 1, 48, 45776, 1.0, 0, 2, 950, 1),
    ("g6e.24xlarge", 96, 768, "x86_64", "nvidia", "L40S", 4, 48, 45776, 1.0, 0, 2, 1900, 2),
    ("g6e.48xlarge", 192, 1536, "x86_64", "nvidia", "L40S", 8, 48, 45776, 1.0, 0, 4, 1900, 4),
    # G6f / Gr6f: fractional L4 (one vGPU of 1/8, 1/4 or 1/2 of an L4).
    ("g6f.large", 2, 8, "x86_64", "nvidia", "L4", 1, 3, 2861, 0.125, 0, 1, 100, 0),
    ("g6f.xlarge", 4, 16, "x86_64", "nvidia", "L4", 1, 3, 2861, 0.125, 0, 1, 100, 0),
    ("g6f.2xlarge", 8, 32, "x86_64", "nvidia", "L4", 1, 6, 5722, 0.25, 0, 1, 200, 0),
    ("g6f.4xlarge", 16, 64, "x86_64", "nvidia", "L4", 1, 12, 11444, 0.5, 0, 1, 450, 0),
    # Gr6: L4 (24 GiB), 8 GiB of memory per vCPU.
    ("gr6.4xlarge", 16, 128, "x86_64", "nvidia", "L4", 1, 24, 22888, 1.0, 0, 1, 600, 0),
    ("gr6.8xlarge", 32, 256, "x86_64", "nvidia", "L4", 1, 24, 22888, 1.0, 0, 2, 450, 1),
    ("gr6f.4xlarge", 16, 128, "x86_64", "nvidia", "L4", 1, 12, 11444, 0.5, 0, 1, 450, 0),
    # G7: RTX PRO 4500 Blackwell (32 GiB); G7e: RTX PRO 6000 Blackwell Server Edition (96 GiB).
    # The EKS AL2023 NVIDIA AMIs support G7 from release v20260917 (awslabs/amazon-eks-ami#2768).
    ("g7.2xlarge", 8, 32, "x86_64", "nvidia", "RTX-PRO-4500", 1, 32, 32768, 1.0, 0, 1, 440, 0),
    ("g7.4xlarge", 16, 64, "x86_64", "nvidia", "RTX-PRO-4500", 1, 32, 32768, 1.0, 0, 1, 875, 0),
    ("g7.8xlarge", 32, 128, "x86_64", "nvidia", "RTX-PRO-4500", 1, 32, 32768, 1.0, 0, 1, 930, 1),
    ("g7.12xlarge", 48, 192, "x86_64", "nvidia", "RTX-PRO-4500", 2, 32, 32768, 1.0, 0, 1, 1900, 1),
    ("g7.24xlarge", 96, 384, "x86_64", "nvidia", "RTX-PRO-4500", 4, 32, 32768, 1.0, 0, 1, 3800, 1),
    ("g7.48xlarge", 192, 768, "x86_64", "nvidia", "RTX-PRO-4500", 8, 32, 32768, 1.0, 0, 2, 3800, 2),
    ("g7e.2xlarge", 8, 64, "x86_64", "nvidia", "RTX-PRO-Server-6000", 1, 96, 98304, 1.0, 0, 1, 1900, 0),
    ("g7e.4xlarge", 16, 128, "x86_64", "nvidia", "RTX-PRO-Server-6000", 1, 96, 98304, 1.0, 0, 1, 1900, 0),
    ("g7e.8xlarge", 32, 256, "x86_64", "nvidia", "RTX-PRO-Server-6000", 1, 96, 98304, 1.0, 0, 1, 1900, 1),
    ("g7e.12xlarge", 48, 512, "x86_64", "nvidia", "RTX-PRO-Server-6000", 2, 96, 98304, 1.0, 0, 1, 3800, 1),
    ("g7e.24xlarge", 96, 1024, "x86_64", "nvidia", "RTX-PRO-Server-6000", 4, 96, 98304, 1.0, 0, 2, 3800, 2),
    ("g7e.48xlarge", 192, 2048, "x86_64", "nvidia", "RTX-PRO-Server-6000", 8, 96, 98304, 1.0, 0, 4, 3800, 4),
    # --- AWS Neuron: Inferentia (inf1), Inferentia2 (inf2), Trainium (trn1), Trainium2 (trn2) ---
    ("inf1.xlarge", 4, 8, "x86_64", "neuron", "Inferentia", 1, 8, 8192, 1.0, 4, 0, 0, 0),
    ("inf1.2xlarge", 8, 16, "x86_64", "neuron", "Inferentia", 1, 8, 8192, 1.0, 4, 0, 0, 0),
    ("inf1.6xlarge", 24, 48, "x86_64", "neuron", "Inferentia", 4, 8, 8192, 1.0, 4, 0, 0, 0),
    ("inf1.24xlarge", 96, 192, "x86_64", "neuron", "Inferentia", 16, 8, 8192, 1.0, 4, 0, 0, 1),
    ("inf2.xlarge", 4, 16, "x86_64", "neuron", "Inferentia2", 1, 32, 32768, 1.0, 2, 0, 0, 0),
    ("inf2.8xlarge", 32, 128, "x86_64", "neuron", "Inferentia2", 1, 32, 32768, 1.0, 2, 0, 0, 0),
    ("inf2.24xlarge", 96, 384, "x86_64", "neuron", "Inferentia2", 6, 32, 32768, 1.0, 2, 0, 0, 0),
    ("inf2.48xlarge", 192, 768, "x86_64", "neuron", "Inferentia2", 12, 32, 32768, 1.0, 2, 0, 0, 0),
    ("trn1.2xlarge", 8, 32, "x86_64", "neuron", "Trainium", 1, 32, 32768, 1.0, 2, 1, 474, 0),
    ("trn1.32xlarge", 128, 512, "x86_64", "neuron", "Trainium", 16, 32, 32768, 1.0, 2, 4, 1900, 8),
    ("trn1n.32xlarge", 128, 512, "x86_64", "neuron", "Trainium", 16, 32, 32768, 1.0, 2, 4, 1900, 16),
    ("trn2.3xlarge", 12, 128, "x86_64", "neuron", "Trainium2", 1, 96, 98304, 1.0, 8, 1, 470, 1),
    ("trn2.48xlarge", 192, 2048, "x86_64", "neuron", "Trainium2", 16, 96, 98304, 1.0, 8, 4, 1900, 16),
    ("trn2u.48xlarge", 192, 2048, "x86_64", "neuron", "Trainium2", 16, 96, 98304, 1.0, 8, 4, 1900, 16),
)
# fmt: on

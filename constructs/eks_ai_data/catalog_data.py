"""Published EC2 instance-type facts behind :mod:`eks_ai_data.catalog` (layer 1: no CDK import).

One row per instance type. Columns, in order:

``name, vCPUs, memory GiB, architecture, accelerator kind, accelerator count, accelerator model,
memory per accelerator (GiB), NVMe instance-store volumes, GB per volume, max EFA interfaces``

Sources:

- vCPUs, memory, accelerators and accelerator memory, instance store volumes ("N x size GB
  NVMe SSD"): the Amazon EC2 Instance Types guide, one page per category (cited per family below).
  Accelerator memory is the per-device figure AWS publishes (A10G 24 GiB, L4 24 GiB, L40S 48 GiB,
  H200 141 GiB), not the slightly smaller MiB value DescribeInstanceTypes reports.
- Maximum EFA interfaces: "Supported instance types" in
  https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/efa.html#efa-instance-types and
  ``NetworkInfo.EfaInfo.MaximumEfaInterfaces`` of DescribeInstanceTypes; 0 means no EFA.
- Every row was cross-checked against DescribeInstanceTypes output (vCPUs, ``MemoryInfo``,
  ``GpuInfo``/``NeuronInfo`` counts, ``InstanceStorageInfo.TotalSizeInGB`` = volumes x size,
  ``MaximumEfaInterfaces``).

Each family lists every size AWS offers, ``.metal`` and ``.medium`` included.
"""

from __future__ import annotations

Row = tuple[str, int, float, str, str | None, int, str | None, int, int, int, int]

ROWS: tuple[Row, ...] = (
    # --- Accelerated computing: https://docs.aws.amazon.com/ec2/latest/instancetypes/ac.html ---
    # P4d / P4de: NVIDIA A100 (40 GiB on p4d, 80 GiB on p4de).
    ("p4d.24xlarge", 96, 1152, "x86_64", "nvidia", 8, "A100", 40, 8, 1000, 4),
    ("p4de.24xlarge", 96, 1152, "x86_64", "nvidia", 8, "A100", 80, 8, 1000, 4),
    # P5 / P5e / P5en: NVIDIA H100 (80 GiB) / H200 (141 GiB); 8 x 3800 GB NVMe on every 48xlarge.
    ("p5.4xlarge", 16, 256, "x86_64", "nvidia", 1, "H100", 80, 1, 3800, 1),
    ("p5.48xlarge", 192, 2048, "x86_64", "nvidia", 8, "H100", 80, 8, 3800, 32),
    ("p5e.48xlarge", 192, 2048, "x86_64", "nvidia", 8, "H200", 141, 8, 3800, 32),
    ("p5en.48xlarge", 192, 2048, "x86_64", "nvidia", 8, "H200", 141, 8, 3800, 16),
    # G5: NVIDIA A10G (24 GiB).
    ("g5.xlarge", 4, 16, "x86_64", "nvidia", 1, "A10G", 24, 1, 250, 0),
    ("g5.2xlarge", 8, 32, "x86_64", "nvidia", 1, "A10G", 24, 1, 450, 0),
    ("g5.4xlarge", 16, 64, "x86_64", "nvidia", 1, "A10G", 24, 1, 600, 0),
    ("g5.8xlarge", 32, 128, "x86_64", "nvidia", 1, "A10G", 24, 1, 900, 1),
    ("g5.12xlarge", 48, 192, "x86_64", "nvidia", 4, "A10G", 24, 1, 3800, 1),
    ("g5.16xlarge", 64, 256, "x86_64", "nvidia", 1, "A10G", 24, 1, 1900, 1),
    ("g5.24xlarge", 96, 384, "x86_64", "nvidia", 4, "A10G", 24, 1, 3800, 1),
    ("g5.48xlarge", 192, 768, "x86_64", "nvidia", 8, "A10G", 24, 2, 3800, 1),
    # G6: NVIDIA L4 (24 GiB).
    ("g6.xlarge", 4, 16, "x86_64", "nvidia", 1, "L4", 24, 1, 250, 0),
    ("g6.2xlarge", 8, 32, "x86_64", "nvidia", 1, "L4", 24, 1, 450, 0),
    ("g6.4xlarge", 16, 64, "x86_64", "nvidia", 1, "L4", 24, 1, 600, 0),
    ("g6.8xlarge", 32, 128, "x86_64", "nvidia", 1, "L4", 24, 2, 450, 1),
    ("g6.12xlarge", 48, 192, "x86_64", "nvidia", 4, "L4", 24, 4, 940, 1),
    ("g6.16xlarge", 64, 256, "x86_64", "nvidia", 1, "L4", 24, 2, 940, 1),
    ("g6.24xlarge", 96, 384, "x86_64", "nvidia", 4, "L4", 24, 4, 940, 1),
    ("g6.48xlarge", 192, 768, "x86_64", "nvidia", 8, "L4", 24, 8, 940, 1),
    # G6e: NVIDIA L40S (48 GiB).
    ("g6e.xlarge", 4, 32, "x86_64", "nvidia", 1, "L40S", 48, 1, 250, 0),
    ("g6e.2xlarge", 8, 64, "x86_64", "nvidia", 1, "L40S", 48, 1, 450, 0),
    ("g6e.4xlarge", 16, 128, "x86_64", "nvidia", 1, "L40S", 48, 1, 600, 0),
    ("g6e.8xlarge", 32, 256, "x86_64", "nvidia", 1, "L40S", 48, 2, 450, 1),
    ("g6e.12xlarge", 48, 384, "x86_64", "nvidia", 4, "L40S", 48, 2, 1900, 1),
    ("g6e.16xlarge", 64, 512, "x86_64", "nvidia", 1, "L40S", 48, 2, 950, 1),
    ("g6e.24xlarge", 96, 768, "x86_64", "nvidia", 4, "L40S", 48, 2, 1900, 2),
    ("g6e.48xlarge", 192, 1536, "x86_64", "nvidia", 8, "L40S", 48, 4, 1900, 4),
    # G5g: AWS Graviton2 (arm64) with NVIDIA T4G (16 GiB); EBS only, no EFA.
    ("g5g.xlarge", 4, 8, "arm64", "nvidia", 1, "T4G", 16, 0, 0, 0),
    ("g5g.2xlarge", 8, 16, "arm64", "nvidia", 1, "T4G", 16, 0, 0, 0),
    ("g5g.4xlarge", 16, 32, "arm64", "nvidia", 1, "T4G", 16, 0, 0, 0),
    ("g5g.8xlarge", 32, 64, "arm64", "nvidia", 1, "T4G", 16, 0, 0, 0),
    ("g5g.16xlarge", 64, 128, "arm64", "nvidia", 2, "T4G", 16, 0, 0, 0),
    ("g5g.metal", 64, 128, "arm64", "nvidia", 2, "T4G", 16, 0, 0, 0),
    # Trn1 / Trn1n: AWS Trainium (32 GiB per device).
    ("trn1.2xlarge", 8, 32, "x86_64", "neuron", 1, "Trainium", 32, 1, 474, 0),
    ("trn1.32xlarge", 128, 512, "x86_64", "neuron", 16, "Trainium", 32, 4, 1900, 8),
    ("trn1n.32xlarge", 128, 512, "x86_64", "neuron", 16, "Trainium", 32, 4, 1900, 16),
    # Inf2: AWS Inferentia2 (32 GiB per device); EBS only, no EFA.
    ("inf2.xlarge", 4, 16, "x86_64", "neuron", 1, "Inferentia2", 32, 0, 0, 0),
    ("inf2.8xlarge", 32, 128, "x86_64", "neuron", 1, "Inferentia2", 32, 0, 0, 0),
    ("inf2.24xlarge", 96, 384, "x86_64", "neuron", 6, "Inferentia2", 32, 0, 0, 0),
    ("inf2.48xlarge", 192, 768, "x86_64", "neuron", 12, "Inferentia2", 32, 0, 0, 0),
    # --- Storage optimized: https://docs.aws.amazon.com/ec2/latest/instancetypes/so.html ---
    # I4i: AWS Nitro NVMe SSD.
    ("i4i.large", 2, 16, "x86_64", None, 0, None, 0, 1, 468, 0),
    ("i4i.xlarge", 4, 32, "x86_64", None, 0, None, 0, 1, 937, 0),
    ("i4i.2xlarge", 8, 64, "x86_64", None, 0, None, 0, 1, 1875, 0),
    ("i4i.4xlarge", 16, 128, "x86_64", None, 0, None, 0, 1, 3750, 0),
    ("i4i.8xlarge", 32, 256, "x86_64", None, 0, None, 0, 2, 3750, 0),
    ("i4i.12xlarge", 48, 384, "x86_64", None, 0, None, 0, 3, 3750, 0),
    ("i4i.16xlarge", 64, 512, "x86_64", None, 0, None, 0, 4, 3750, 0),
    ("i4i.24xlarge", 96, 768, "x86_64", None, 0, None, 0, 6, 3750, 0),
    ("i4i.32xlarge", 128, 1024, "x86_64", None, 0, None, 0, 8, 3750, 1),
    ("i4i.metal", 128, 1024, "x86_64", None, 0, None, 0, 8, 3750, 1),
    # --- Compute optimized: https://docs.aws.amazon.com/ec2/latest/instancetypes/co.html ---
    # C6id.
    ("c6id.large", 2, 4, "x86_64", None, 0, None, 0, 1, 118, 0),
    ("c6id.xlarge", 4, 8, "x86_64", None, 0, None, 0, 1, 237, 0),
    ("c6id.2xlarge", 8, 16, "x86_64", None, 0, None, 0, 1, 474, 0),
    ("c6id.4xlarge", 16, 32, "x86_64", None, 0, None, 0, 1, 950, 0),
    ("c6id.8xlarge", 32, 64, "x86_64", None, 0, None, 0, 1, 1900, 0),
    ("c6id.12xlarge", 48, 96, "x86_64", None, 0, None, 0, 2, 1425, 0),
    ("c6id.16xlarge", 64, 128, "x86_64", None, 0, None, 0, 2, 1900, 0),
    ("c6id.24xlarge", 96, 192, "x86_64", None, 0, None, 0, 4, 1425, 0),
    ("c6id.32xlarge", 128, 256, "x86_64", None, 0, None, 0, 4, 1900, 1),
    ("c6id.metal", 128, 256, "x86_64", None, 0, None, 0, 4, 1900, 1),
    # --- General purpose: https://docs.aws.amazon.com/ec2/latest/instancetypes/gp.html ---
    # M6id.
    ("m6id.large", 2, 8, "x86_64", None, 0, None, 0, 1, 118, 0),
    ("m6id.xlarge", 4, 16, "x86_64", None, 0, None, 0, 1, 237, 0),
    ("m6id.2xlarge", 8, 32, "x86_64", None, 0, None, 0, 1, 474, 0),
    ("m6id.4xlarge", 16, 64, "x86_64", None, 0, None, 0, 1, 950, 0),
    ("m6id.8xlarge", 32, 128, "x86_64", None, 0, None, 0, 1, 1900, 0),
    ("m6id.12xlarge", 48, 192, "x86_64", None, 0, None, 0, 2, 1425, 0),
    ("m6id.16xlarge", 64, 256, "x86_64", None, 0, None, 0, 2, 1900, 0),
    ("m6id.24xlarge", 96, 384, "x86_64", None, 0, None, 0, 4, 1425, 0),
    ("m6id.32xlarge", 128, 512, "x86_64", None, 0, None, 0, 4, 1900, 1),
    ("m6id.metal", 128, 512, "x86_64", None, 0, None, 0, 4, 1900, 1),
    # --- Memory optimized: https://docs.aws.amazon.com/ec2/latest/instancetypes/mo.html ---
    # R6id.
    ("r6id.large", 2, 16, "x86_64", None, 0, None, 0, 1, 118, 0),
    ("r6id.xlarge", 4, 32, "x86_64", None, 0, None, 0, 1, 237, 0),
    ("r6id.2xlarge", 8, 64, "x86_64", None, 0, None, 0, 1, 474, 0),
    ("r6id.4xlarge", 16, 128, "x86_64", None, 0, None, 0, 1, 950, 0),
    ("r6id.8xlarge", 32, 256, "x86_64", None, 0, None, 0, 1, 1900, 0),
    ("r6id.12xlarge", 48, 384, "x86_64", None, 0, None, 0, 2, 1425, 0),
    ("r6id.16xlarge", 64, 512, "x86_64", None, 0, None, 0, 2, 1900, 0),
    ("r6id.24xlarge", 96, 768, "x86_64", None, 0, None, 0, 4, 1425, 0),
    ("r6id.32xlarge", 128, 1024, "x86_64", None, 0, None, 0, 4, 1900, 1),
    ("r6id.metal", 128, 1024, "x86_64", None, 0, None, 0, 4, 1900, 1),
    # C7gd / M7gd / R7gd: AWS Graviton3 (arm64) with NVMe instance store (co.html, gp.html, mo.html).
    ("c7gd.medium", 1, 2, "arm64", None, 0, None, 0, 1, 59, 0),
    ("c7gd.large", 2, 4, "arm64", None, 0, None, 0, 1, 118, 0),
    ("c7gd.xlarge", 4, 8, "arm64", None, 0, None, 0, 1, 237, 0),
    ("c7gd.2xlarge", 8, 16, "arm64", None, 0, None, 0, 1, 474, 0),
    ("c7gd.4xlarge", 16, 32, "arm64", None, 0, None, 0, 1, 950, 0),
    ("c7gd.8xlarge", 32, 64, "arm64", None, 0, None, 0, 1, 1900, 0),
    ("c7gd.12xlarge", 48, 96, "arm64", None, 0, None, 0, 2, 1425, 0),
    ("c7gd.16xlarge", 64, 128, "arm64", None, 0, None, 0, 2, 1900, 1),
    ("c7gd.metal", 64, 128, "arm64", None, 0, None, 0, 2, 1900, 1),
    ("m7gd.medium", 1, 4, "arm64", None, 0, None, 0, 1, 59, 0),
    ("m7gd.large", 2, 8, "arm64", None, 0, None, 0, 1, 118, 0),
    ("m7gd.xlarge", 4, 16, "arm64", None, 0, None, 0, 1, 237, 0),
    ("m7gd.2xlarge", 8, 32, "arm64", None, 0, None, 0, 1, 474, 0),
    ("m7gd.4xlarge", 16, 64, "arm64", None, 0, None, 0, 1, 950, 0),
    ("m7gd.8xlarge", 32, 128, "arm64", None, 0, None, 0, 1, 1900, 0),
    ("m7gd.12xlarge", 48, 192, "arm64", None, 0, None, 0, 2, 1425, 0),
    ("m7gd.16xlarge", 64, 256, "arm64", None, 0, None, 0, 2, 1900, 1),
    ("m7gd.metal", 64, 256, "arm64", None, 0, None, 0, 2, 1900, 1),
    ("r7gd.medium", 1, 8, "arm64", None, 0, None, 0, 1, 59, 0),
    ("r7gd.large", 2, 16, "arm64", None, 0, None, 0, 1, 118, 0),
    ("r7gd.xlarge", 4, 32, "arm64", None, 0, None, 0, 1, 237, 0),
    ("r7gd.2xlarge", 8, 64, "arm64", None, 0, None, 0, 1, 474, 0),
    ("r7gd.4xlarge", 16, 128, "arm64", None, 0, None, 0, 1, 950, 0),
    ("r7gd.8xlarge", 32, 256, "arm64", None, 0, None, 0, 1, 1900, 0),
    ("r7gd.12xlarge", 48, 384, "arm64", None, 0, None, 0, 2, 1425, 0),
    ("r7gd.16xlarge", 64, 512, "arm64", None, 0, None, 0, 2, 1900, 1),
    ("r7gd.metal", 64, 512, "arm64", None, 0, None, 0, 2, 1900, 1),
    # EBS-only, non-accelerated types for system nodes and negative tests (gp.html, co.html).
    ("m5.large", 2, 8, "x86_64", None, 0, None, 0, 0, 0, 0),
    ("m6i.large", 2, 8, "x86_64", None, 0, None, 0, 0, 0, 0),
    ("m6i.xlarge", 4, 16, "x86_64", None, 0, None, 0, 0, 0, 0),
    ("m6i.2xlarge", 8, 32, "x86_64", None, 0, None, 0, 0, 0, 0),
    ("m7i.large", 2, 8, "x86_64", None, 0, None, 0, 0, 0, 0),
    ("m7g.large", 2, 8, "arm64", None, 0, None, 0, 0, 0, 0),
    ("c7g.large", 2, 4, "arm64", None, 0, None, 0, 0, 0, 0),
    ("t3.large", 2, 8, "x86_64", None, 0, None, 0, 0, 0, 0),
)

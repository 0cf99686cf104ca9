"""``eks-ai-data cost``: the estimate of both reference platforms and the company example.

The reference app comes from the session fixture; the company example is synthesized once for this
module (without cdk-nag: only its templates matter here). Expected figures are computed by hand from
the shipped price table, so a wrong rule or a wrong lookup fails.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from eks_ai_data import catalog
from eks_ai_data.ops import cost
from eks_ai_data.ops.cost_model import Amount
from eks_ai_data.ops.cost_resources import FREE, PRICERS, USAGE_BASED, classify
from eks_ai_data.ops.prices import PriceTable
from tests.test_layers import CDK_ROOTS, imports

ROOT = Path(__file__).resolve().parents[2]
COMPANY_APP = ROOT / "examples" / "company_app"
TABLE = PriceTable.load()
DAY = dt.date(2026, 12, 1)


@pytest.fixture(scope="module")
def company_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import aws_cdk as cdk

    if str(COMPANY_APP) not in sys.path:
        sys.path.append(str(COMPANY_APP))
    from company_app import build

    outdir = tmp_path_factory.mktemp("company-cost")
    context = json.loads((COMPANY_APP / "cdk.json").read_text()).get("context", {})
    app = cdk.App(outdir=str(outdir), context=context)
    build(app)
    app.synth()
    return outdir


@pytest.fixture(scope="module")
def assemblies(reference, company_assembly) -> dict[str, Path]:
    return {"reference": reference.outdir, "company": company_assembly}


@pytest.fixture(scope="module")
def reports(assemblies) -> dict[str, cost.Report]:
    return {name: cost.estimate(path, today=DAY) for name, path in assemblies.items()}


def _items(report: cost.Report, logical_prefix: str, component: str | None = None):
    return [
        i
        for i in report.items
        if i.logical_id.startswith(logical_prefix) and (component is None or i.component == component)
    ]


def _rate(region: str, key: str) -> float:
    price = TABLE.price(region, key)
    assert price is not None, key
    return price.usd


@pytest.mark.parametrize("name", ["reference", "company"])
def test_totals_are_the_sum_of_the_items(reports, name):
    report = reports[name]
    desired, maximum = report.totals()
    assert desired.low == pytest.approx(sum(i.desired.low for i in report.priced), abs=0.005)
    assert desired.high == pytest.approx(sum(i.desired.high for i in report.priced), abs=0.005)
    assert maximum.low == pytest.approx(sum(i.max.low for i in report.priced), abs=0.005)
    assert maximum.high == pytest.approx(sum(i.max.high for i in report.priced), abs=0.005)
    per_stack = [report.totals(s) for s in report.regions]
    assert sum(d.high for d, _ in per_stack) == pytest.approx(desired.high, abs=0.01)
    assert sum(m.high for _, m in per_stack) == pytest.approx(maximum.high, abs=0.01)
    document = json.loads(cost.render_json(report))
    assert document["totals"]["monthly_max"]["high"] == maximum.high
    assert sum(i["monthly_max"]["high"] for i in document["items"] if not i["unpriced"]) == pytest.approx(
        maximum.high, abs=0.005
    )


@pytest.mark.parametrize("name", ["reference", "company"])
def test_every_resource_type_of_the_templates_is_classified(reports, name):
    """A resource type that is neither priced, free nor usage-based fails here: add it to a list."""
    report = reports[name]
    unknown = sorted({r.resource_type for r in report.resources if r.classification == "unknown"})
    assert unknown == []
    assert report.unpriced == [], [f"{i.logical_id}: {i.unpriced}" for i in report.unpriced]
    priced_types = {r.resource_type for r in report.resources if r.classification == "priced"}
    assert {
        "AWS::EKS::Cluster",
        "AWS::EKS::Nodegroup",
        "AWS::FSx::FileSystem",
        "AWS::KMS::Key",
    } <= priced_types


def test_a_new_resource_type_is_reported_unpriced(reference, tmp_path):
    """The same check, seen from the other side: an unknown type becomes a counted unpriced item."""
    outdir = _copy_assembly(reference.outdir, tmp_path)
    template_path = outdir / "EksAiDataTrainingBlue.template.json"
    template = json.loads(template_path.read_text())
    template["Resources"]["NewThing"] = {"Type": "AWS::Bedrock::Agent", "Properties": {}}
    template_path.write_text(json.dumps(template))
    report = cost.estimate(outdir, today=DAY)
    (item,) = [i for i in report.unpriced if i.logical_id == "NewThing"]
    assert "not in the cost model" in item.unpriced
    assert "unpriced: EksAiDataTrainingBlue/NewThing" in cost.render_table(report)
    assert cost.cost_main(str(outdir), stream=_Null(), errors=_Null(), fail_on_unpriced=True, today=DAY) == 1


def test_the_lists_do_not_overlap():
    assert (
        not (set(PRICERS) & set(FREE))
        and not (set(PRICERS) & set(USAGE_BASED))
        and not (set(FREE) & set(USAGE_BASED))
    )
    assert classify("AWS::Made::Up") == "unknown"


def test_node_groups_at_desired_and_at_max(reports):
    training = reports["reference"]
    (gpu,) = _items(training, "DatasetGpuNodesNodegroup", "instances")
    p5 = _rate("us-east-1", "ec2:p5.48xlarge")
    assert gpu.desired == Amount(0.0, 0.0)
    assert gpu.max == Amount.fixed(round(2 * 730 * p5, 2))  # MaxSize 2, on-demand
    (volumes,) = _items(training, "DatasetGpuNodesNodegroup", "root volumes")
    assert volumes.max == Amount.fixed(2 * 200 * _rate("us-east-1", "ebs:gp3:gb-month"))
    system = [
        i
        for i in training.items
        if i.logical_id.startswith("PlatformSystemNodes") and i.component == "instances"
    ]
    assert len(system) == 2  # one per platform
    for item in system:
        assert item.desired == Amount.fixed(round(2 * 730 * _rate("us-east-1", "ec2:m7i.large"), 2))
        assert item.max.high == pytest.approx(2 * item.desired.high, abs=0.01)
    for report in reports.values():
        for item in report.priced:
            assert item.max.low >= item.desired.low and item.max.high >= item.desired.high


def test_lustre_price_by_hand(reports):
    (storage,) = _items(reports["reference"], "DatasetLustreFileSystem", "storage")
    # PERSISTENT_2, SSD, 250 MB/s/TiB, 2400 GiB: 2400 x $0.21 = $504.00 a month
    assert _rate("us-east-1", "fsx:lustre:PERSISTENT_2:SSD:250:gb-month") == 0.21
    assert storage.desired == Amount.fixed(504.0)
    # linked to S3, so FSx keeps no automatic backups of it (the buckets are backed up instead): nothing to price
    assert not _items(reports["reference"], "DatasetLustreFileSystem", "backups")
    (company,) = _items(reports["company"], "LustreFileSystem", "storage")
    # the company app: eu-west-1, 4800 GiB at 500 MB/s/TiB, an estimated regional figure
    assert company.desired == Amount.fixed(
        round(4800 * _rate("eu-west-1", "fsx:lustre:PERSISTENT_2:SSD:500:gb-month"), 2)
    )
    assert company.estimated


def test_company_example_is_priced_for_its_own_region(reports):
    report = reports["company"]
    assert report.regions == {"ExampleCorpMlPlatform": "eu-west-1"}
    (gpu,) = _items(report, "GpuNodesNodegroup", "instances")
    assert gpu.max == Amount.fixed(round(4 * 730 * _rate("eu-west-1", "ec2:p5.48xlarge"), 2))
    assert gpu.estimated  # eu-west-1 EC2 figures are derived, and the table says so
    assert "~" in cost.render_table(report)


def test_eks_extended_support_after_the_end_of_standard_support(reference):
    before = cost.estimate(reference.outdir, today=dt.date(2027, 6, 30))
    after = cost.estimate(reference.outdir, today=dt.date(2027, 7, 1))  # 1.36's (approximate) end of standard
    (b,) = [
        i
        for i in before.items
        if i.resource_type == "AWS::EKS::Cluster" and i.stack == "EksAiDataTrainingBlue"
    ]
    (a,) = [
        i
        for i in after.items
        if i.resource_type == "AWS::EKS::Cluster" and i.stack == "EksAiDataTrainingBlue"
    ]
    assert b.desired == Amount.fixed(73.0) and "standard support" in b.what
    assert a.desired == Amount.fixed(438.0) and "extended support" in a.what


def test_spot_is_a_range_below_on_demand(reference, tmp_path):
    outdir = _copy_assembly(reference.outdir, tmp_path)
    _edit(
        outdir / "EksAiDataTrainingBlue.template.json",
        "DatasetGpuNodesNodegroup",
        lambda p: p.update(CapacityType="SPOT"),
    )
    spot = cost.estimate(outdir, today=DAY, spot=cost.SpotRange(0.3, 0.7))
    (item,) = _items(spot, "DatasetGpuNodesNodegroup", "instances")
    on_demand = 2 * 730 * _rate("us-east-1", "ec2:p5.48xlarge")
    assert item.max == Amount(round(0.3 * on_demand, 2), round(0.7 * on_demand, 2))
    assert item.max.high < on_demand and item.estimated
    assert "-$" in cost.render_table(spot)


def test_capacity_blocks_and_overrides(reference, tmp_path):
    outdir = _copy_assembly(reference.outdir, tmp_path)
    _edit(
        outdir / "EksAiDataTrainingBlue.template.json",
        "DatasetGpuNodesNodegroup",
        lambda p: p.update(CapacityType="CAPACITY_BLOCK"),
    )
    (item,) = _items(cost.estimate(outdir, today=DAY), "DatasetGpuNodesNodegroup", "instances")
    assert item.max == Amount.fixed(round(2 * 730 * 39.33, 2)) and item.estimated
    overridden = cost.estimate(
        outdir, today=DAY, table=TABLE.with_overrides({"ec2-capacity-block:p5.48xlarge": 30.0})
    )
    (item,) = _items(overridden, "DatasetGpuNodesNodegroup", "instances")
    assert item.max == Amount.fixed(2 * 730 * 30.0) and not item.estimated


def test_unpriced_instance_types_are_counted_not_zero(reference, tmp_path):
    outdir = _copy_assembly(reference.outdir, tmp_path)
    _edit(
        outdir / "EksAiDataTrainingBlue.template.json",
        "NvmeNodesNodegroup",
        lambda p: p.update(InstanceTypes=["i4i.8xlarge", "x9z.huge"]),
    )
    report = cost.estimate(outdir, today=DAY)
    (priced,) = [i for i in _items(report, "NvmeNodesNodegroup", "instances") if i.priced]
    assert "x9z.huge" not in priced.what and priced.max == Amount.fixed(round(4 * 730 * 2.746, 2))
    (missing,) = [i for i in report.unpriced if i.logical_id.startswith("NvmeNodesNodegroup")]
    assert "x9z.huge" in missing.unpriced and missing.desired is None
    assert "1 unpriced" in cost.render_table(report)


PRICES_FILE = Path(cost.__file__).with_name("prices.json")


def test_catalog_types_are_priced_in_every_region():
    """Every type of the instance catalog has an on-demand figure in each Region, except the ones the table names
    as unpriced (with its reason): a type added to the catalog without a price fails here."""
    declared = json.loads(PRICES_FILE.read_text())["unpriced_instance_types"]
    assert "p5e.48xlarge" in declared  # sold through Capacity Blocks only
    for region in TABLE.regions:
        missing = [
            s.name for s in catalog.all_instance_types() if TABLE.price(region, f"ec2:{s.name}") is None
        ]
        assert sorted(missing) == sorted(declared), region


NODEPOOL = {
    "apiVersion": "karpenter.sh/v1",
    "kind": "NodePool",
    "metadata": {"name": "gpu"},
    "spec": {
        "template": {
            "spec": {
                "requirements": [
                    {
                        "key": "node.kubernetes.io/instance-type",
                        "operator": "In",
                        "values": ["p5.48xlarge", "g6e.12xlarge"],
                    },
                    {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]},
                ]
            }
        },
        "limits": {"nvidia.com/gpu": "20", "cpu": "1000"},
    },
}


def test_nodepool_limits_price_the_maximum(reference, tmp_path):
    """20 GPUs: floor(20/8) = 2 p5.48xlarge or floor(20/4) = 5 g6e.12xlarge; cpu 1000 bounds neither."""
    outdir = _copy_assembly(reference.outdir, tmp_path)
    path = outdir / "EksAiDataTrainingBlue.template.json"
    template = json.loads(path.read_text())
    pool = copy.deepcopy(NODEPOOL)
    pool["metadata"]["labels"] = {
        "cluster": "@REF@"
    }  # an intrinsic inside the manifest, as the CDK writes it
    before, after = json.dumps([pool]).split("@REF@")
    template["Resources"]["GpuNodePool"] = {
        "Type": "Custom::AWSCDK-EKS-KubernetesResource",
        "Properties": {"Manifest": {"Fn::Join": ["", [before, {"Ref": "PlatformCluster6842C9C4"}, after]]}},
    }
    path.write_text(json.dumps(template))
    report = cost.estimate(outdir, today=DAY)
    (pool,) = [i for i in report.items if i.logical_id == "GpuNodePool"]
    p5, g6e = _rate("us-east-1", "ec2:p5.48xlarge"), _rate("us-east-1", "ec2:g6e.12xlarge")
    assert pool.desired == Amount(0.0, 0.0)
    assert pool.max == Amount(round(min(2 * p5, 5 * g6e) * 730, 2), round(max(2 * p5, 5 * g6e) * 730, 2))
    assert "2 x p5.48xlarge" in pool.what and "5 x g6e.12xlarge" in pool.what


def test_nodepool_without_limits_is_unpriced():
    from eks_ai_data.ops.cost_model import Context
    from eks_ai_data.ops.cost_nodes import max_nodes, nodepool_items, parse_quantity

    ctx = Context(TABLE, "us-east-1", "S", {"Resources": {}}, {"hours": 730.0})
    pool = copy.deepcopy(NODEPOOL)
    del pool["spec"]["limits"]
    (item,) = nodepool_items("Pool", "Custom::AWSCDK-EKS-KubernetesResource", pool, ctx)
    assert item.unpriced == "no spec.limits: the maximum is unbounded"
    pool["spec"]["limits"] = {"memory": "4Ti"}  # by memory: 4 TiB / 2 TiB per p5.48xlarge = 2
    assert max_nodes(catalog.get("p5.48xlarge"), {"memory": parse_quantity("4Ti")}) == 2
    assert max_nodes(catalog.get("m7i.large"), {"nvidia.com/gpu": 8.0}) is None  # no GPUs: not bounded
    assert parse_quantity("500m") == 0.5 and parse_quantity("1k") == 1000 and parse_quantity("x") is None


def test_json_report_carries_the_assumptions_and_the_table_date(reports):
    document = json.loads(cost.render_json(reports["reference"]))
    assert document["prices"]["as_of"] == TABLE.as_of
    assert document["assumptions"]["hours"] == {
        "value": 730.0,
        "unit": "hours/month",
        "meaning": "hours a month that running resources are billed",
    }
    assert {r["classification"] for r in document["resources"]} == {"priced", "free", "usage-based"}


def test_assumption_flags_change_the_items(assemblies, capsys):
    from eks_ai_data.cli import main

    assert (
        main(
            [
                "cost",
                str(assemblies["reference"]),
                "--json",
                "--nat-gb",
                "1000",
                "--hours",
                "100",
                "--date",
                "2026-12-01",
            ]
        )
        == 0
    )
    document = json.loads(capsys.readouterr().out)
    nat = [i for i in document["items"] if i["type"] == "AWS::EC2::NatGateway"]
    assert nat and all(i["monthly_desired"]["high"] == round(100 * 0.045 + 1000 * 0.045, 2) for i in nat)
    assert document["assumptions"]["nat_gb"]["value"] == 1000.0


def test_console_script_prints_the_table_and_exits_0(assemblies):
    script = Path(sys.executable).with_name("eks-ai-data")
    result = subprocess.run(
        [str(script), "cost", str(assemblies["company"]), "--date", "2026-12-01"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "ExampleCorpMlPlatform (eu-west-1)" in result.stdout
    assert "TOTAL (1 stacks, " in result.stdout and "0 unpriced" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["cost", "/nonexistent/cdk.out"], "/nonexistent/cdk.out is not a directory"),
        (["cost", ".", "--spot-range", "0.8-0.2"], "--spot-range '0.8-0.2'"),
        (["cost", ".", "--price", "nat:gb"], "expected KEY=USD"),
        (["cost", ".", "--stored", "Bucket=lots"], "expected LOGICAL_ID=GIB"),
    ],
)
def test_cannot_run_exits_2_without_traceback(args, message, capsys):
    from eks_ai_data.cli import main

    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_region_without_prices_exits_2(assemblies, capsys):
    from eks_ai_data.cli import main

    assert main(["cost", str(assemblies["company"]), "--region", "ap-south-1"]) == 2
    assert "the price table has no prices for ap-south-1" in capsys.readouterr().err


@pytest.mark.parametrize(
    "module",
    [
        "ops.cost",
        "ops.cost_model",
        "ops.cost_nodes",
        "ops.cost_resources",
        "ops.cost_storage",
        "ops.prices",
        "ops.assembly",
        "ops.price_refresh",
    ],
)
def test_cost_modules_never_import_the_cdk(module):
    assert {n.split(".")[0] for n in imports(module)} & CDK_ROOTS == set()
    if module != "ops.price_refresh":
        assert not {n.split(".")[0] for n in imports(module)} & {"boto3", "botocore"}


# --------------------------------------------------------------------------- helpers


class _Null:
    def write(self, _text: str) -> int:
        return 0


def _copy_assembly(source: Path, tmp_path: Path) -> Path:
    import shutil

    target = tmp_path / "cdk.out"
    target.mkdir()
    for path in [source / "manifest.json", *source.glob("*.template.json")]:
        shutil.copy(path, target / path.name)
    return target


def _edit(path: Path, logical_prefix: str, change) -> None:
    template = json.loads(path.read_text())
    (logical_id,) = [k for k in template["Resources"] if k.startswith(logical_prefix)]
    change(template["Resources"][logical_id]["Properties"])
    path.write_text(json.dumps(template))

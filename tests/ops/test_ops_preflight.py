"""`eks-ai-data preflight` against moto (plus the documented gap fillers of ops_fakes)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from moto import mock_aws
from ops_fakes import ApiError, FakeAws, fake_credentials, isolate_aws_environment

from eks_ai_data.cli import main
from eks_ai_data.ops.preflight import PlannedNodes, parse_plan
from eks_ai_data.ops.quotas import quota_class

pytestmark = pytest.mark.heavy

QUOTA_NAMES = {
    "L-417A185B": "Running On-Demand P instances",
    "L-DB2E81BA": "Running On-Demand G and VT instances",
    "L-1216C47A": "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances",
    "L-7212CCBC": "All P Spot Instance Requests",
}

EKS_VERSIONS = [
    ("1.30", "UNSUPPORTED", False),
    ("1.31", "EXTENDED_SUPPORT", False),
    ("1.32", "STANDARD_SUPPORT", False),
    ("1.33", "STANDARD_SUPPORT", True),
]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Any:
    isolate_aws_environment(monkeypatch, tmp_path)
    fake_credentials(monkeypatch)
    with mock_aws():
        fake = FakeAws()
        fake.quotas = {"L-417A185B": 384.0, "L-DB2E81BA": 96.0, "L-1216C47A": 64.0, "L-7212CCBC": 192.0}
        fake.default_quotas = {}

        def get_quota(params: dict[str, Any]) -> dict[str, Any]:
            code = params["QuotaCode"]
            if code not in fake.quotas:
                raise ApiError("NoSuchResourceException", f"The request failed because {code} does not exist")
            return _quota(code, fake.quotas[code])

        def get_default_quota(params: dict[str, Any]) -> dict[str, Any]:
            code = params["QuotaCode"]
            if code not in fake.default_quotas:
                raise ApiError("NoSuchResourceException", f"The request failed because {code} does not exist")
            return _quota(code, fake.default_quotas[code])

        def cluster_versions(params: dict[str, Any]) -> dict[str, Any]:
            assert params.get("includeAll") is True
            return {
                "clusterVersions": [
                    {
                        "clusterVersion": version,
                        "versionStatus": status,
                        "status": status.lower().replace("_", "-"),
                        "defaultVersion": default,
                        "endOfStandardSupportDate": dt.datetime(2027, 3, 1, tzinfo=dt.UTC),
                        "endOfExtendedSupportDate": dt.datetime(2028, 3, 1, tzinfo=dt.UTC),
                    }
                    for version, status, default in EKS_VERSIONS
                ]
            }

        fake.responder.answer("service-quotas", "GetServiceQuota", get_quota)
        fake.responder.answer("service-quotas", "GetAWSDefaultServiceQuota", get_default_quota)
        fake.responder.answer("eks", "DescribeClusterVersions", cluster_versions)
        yield fake


def _quota(code: str, value: float) -> dict[str, Any]:
    return {
        "Quota": {
            "ServiceCode": "ec2",
            "QuotaCode": code,
            "QuotaName": QUOTA_NAMES.get(code, code),
            "Value": value,
        }
    }


def run(fake: Any, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["preflight", "--region", "us-east-1", *args], session_factory=fake.factory)
    out, err = capsys.readouterr()
    return code, out, err


def rows(out: str) -> dict[tuple[str, str], tuple[str, str]]:
    """Parse the table: (check, subject) -> (status, detail)."""
    document = json.loads(out)
    return {(c["check"], c["subject"]): (c["status"], c["detail"]) for c in document["checks"]}


# --- parsing and quota classes ------------------------------------------------------------


@pytest.mark.parametrize(
    ("instance_type", "code"),
    [
        ("p5.48xlarge", "L-417A185B"),
        ("p6-b200.48xlarge", "L-417A185B"),
        ("g6e.12xlarge", "L-DB2E81BA"),
        ("gr6.4xlarge", "L-DB2E81BA"),
        ("vt1.3xlarge", "L-DB2E81BA"),
        ("inf2.48xlarge", "L-1945791B"),
        ("trn2.48xlarge", "L-2C3B7624"),
        ("dl1.24xlarge", "L-6E869C2A"),
        ("f2.48xlarge", "L-74FC7D96"),
        ("x2idn.32xlarge", "L-7295265B"),
        ("hpc7a.96xlarge", "L-F7808C92"),
        ("u7i-12tb.224xlarge", "L-43DA4232"),
        ("m7i.2xlarge", "L-1216C47A"),
        ("i4i.32xlarge", "L-1216C47A"),
        ("d3en.12xlarge", "L-1216C47A"),
        ("t3.medium", "L-1216C47A"),
    ],
)
def test_quota_class_of_instance_type(instance_type: str, code: str) -> None:
    assert quota_class(instance_type).on_demand_code == code


@pytest.mark.parametrize(
    ("instance_type", "spot_code"),
    [
        ("p5.48xlarge", "L-7212CCBC"),
        ("g6e.xlarge", "L-3819A6DF"),
        ("trn1.32xlarge", "L-6B0D517C"),
        ("c7i.large", "L-34B43A08"),
    ],
)
def test_spot_quota_codes(instance_type: str, spot_code: str) -> None:
    assert quota_class(instance_type).code("spot") == spot_code


def test_parse_plan_counts_per_type() -> None:
    assert parse_plan("P5.48xlarge:4, g6e.12xlarge", 2) == [
        PlannedNodes("p5.48xlarge", 4),
        PlannedNodes("g6e.12xlarge", 2),
    ]


@pytest.mark.parametrize("spec", ["p5.48xlarge:0", "p5.48xlarge:x", " , "])
def test_parse_plan_rejects_bad_specs(spec: str) -> None:
    with pytest.raises(ValueError, match=r"invalid node count|no instance types"):
        parse_plan(spec, 1)


# --- success ------------------------------------------------------------------------------


def test_plan_that_fits_passes(fake: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        fake,
        capsys,
        "--instance-types",
        "p5.48xlarge,g6e.12xlarge",
        "--nodes",
        "2",
        "--kubernetes-version",
        "1.33",
    )
    assert code == 0, err
    assert err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["CHECK", "SUBJECT", "STATUS", "DETAIL"]
    assert any(line.startswith("offering") and "p5.48xlarge" in line and "OK" in line for line in lines)
    assert "Running On-Demand P instances (L-417A185B): need 384 vCPUs (2 x 192) + 0 in use, quota 384" in out
    assert "Running On-Demand G and VT instances (L-DB2E81BA): need 96 vCPUs (2 x 48)" in out
    assert "standard support until 2027-03-01" in out


def test_json_report(fake: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(fake, capsys, "--instance-types", "g6e.12xlarge:2", "--json")
    document = json.loads(out)
    assert code == 0
    assert document["ok"] is True
    assert document["region"] == "us-east-1"
    table = rows(out)
    assert table[("instance-type", "g6e.12xlarge")] == ("ok", "48 vCPUs, 4 x NVIDIA L40S")
    assert table[("offering", "g6e.12xlarge")][1] == (
        "offered in 4 of 6 zones: us-east-1a, us-east-1b, us-east-1c, us-east-1d"
    )
    # without --kubernetes-version the EKS default is reported
    assert "EKS default version in us-east-1 is 1.33" in table[("eks-version", "(default)")][1]


def test_lustre_row_is_a_warning_until_a_persistent_2_file_system_exists(
    fake: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(fake, capsys, "--instance-types", "m5.large", "--json")
    status, detail = rows(out)[("fsx-lustre", "PERSISTENT_2")]
    assert status == "warn"
    assert "no API reports PERSISTENT_2 availability" in detail

    subnet = _subnet(fake, "us-east-1a")
    fs_id = fake.client("fsx").create_file_system(
        FileSystemType="LUSTRE",
        StorageCapacity=1200,
        SubnetIds=[subnet],
        LustreConfiguration={"DeploymentType": "PERSISTENT_2", "PerUnitStorageThroughput": 250},
    )["FileSystem"]["FileSystemId"]
    _, out, _ = run(fake, capsys, "--instance-types", "m5.large", "--json")
    status, detail = rows(out)[("fsx-lustre", "PERSISTENT_2")]
    assert status == "ok"
    assert fs_id in detail


def test_quota_falls_back_to_the_aws_default(fake: Any, capsys: pytest.CaptureFixture[str]) -> None:
    del fake.quotas["L-417A185B"]
    fake.default_quotas["L-417A185B"] = 192.0
    code, out, _ = run(fake, capsys, "--instance-types", "p5.48xlarge", "--json")
    assert code == 0
    assert "quota 192 (AWS default)" in rows(out)[("quota", "p5.48xlarge")][1]


def test_unreadable_quota_is_a_warning(fake: Any, capsys: pytest.CaptureFixture[str]) -> None:
    del fake.quotas["L-417A185B"]
    code, out, _ = run(fake, capsys, "--instance-types", "p5.48xlarge", "--json")
    assert code == 0
    status, detail = rows(out)[("quota", "p5.48xlarge")]
    assert status == "warn"
    assert "could not read the quota" in detail


# --- failures -----------------------------------------------------------------------------


def test_type_offered_in_no_zone_fails(fake: Any, capsys: pytest.CaptureFixture[str]) -> None:
    # moto's offerings for us-east-1 list p5e.48xlarge in no zone
    code, out, err = run(fake, capsys, "--instance-types", "p5e.48xlarge,g6e.12xlarge")
    assert code == 1
    assert "offering p5e.48xlarge: no availability zone of us-east-1 offers p5e.48xlarge" in err
    assert "g6e.12xlarge" not in err
    assert "FAIL" in out


def test_type_not_offered_in_the_chosen_zones_fails(fake: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        fake, capsys, "--instance-types", "trn1.32xlarge", "--availability-zones", "us-east-1a,us-east-1d"
    )
    assert code == 1
    assert (
        "none of the chosen zones (us-east-1a, us-east-1d) offers trn1.32xlarge; "
        "offered in us-east-1b, us-east-1c, us-east-1f"
    ) in err


def test_unknown_zone_fails(fake: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(fake, capsys, "--instance-types", "m5.large", "--availability-zones", "us-east-1z")
    assert code == 1
    assert "zones us-east-1z: not an available zone of us-east-1" in err


def test_short_quota_fails_and_says_by_how_much(fake: Any, capsys: pytest.CaptureFixture[str]) -> None:
    fake.quotas["L-417A185B"] = 192.0
    code, _, err = run(fake, capsys, "--instance-types", "p5.48xlarge", "--nodes", "2")
    assert code == 1
    assert (
        "quota p5.48xlarge: Running On-Demand P instances (L-417A185B): need 384 vCPUs (2 x 192) "
        "+ 0 in use, quota 192 (applied): short by 192 vCPUs"
    ) in err


def test_types_sharing_a_quota_are_summed(fake: Any, capsys: pytest.CaptureFixture[str]) -> None:
    fake.quotas["L-417A185B"] = 288.0
    code, out, _ = run(fake, capsys, "--instance-types", "p5.48xlarge:1,p4d.24xlarge:1", "--json")
    assert code == 0
    assert (
        "need 288 vCPUs (1 x 192 + 1 x 96) + 0 in use, quota 288"
        in rows(out)[("quota", "p5.48xlarge, p4d.24xlarge")][1]
    )
    code, _, err = run(fake, capsys, "--instance-types", "p5.48xlarge:1,p4d.24xlarge:2")
    assert code == 1
    assert "quota p5.48xlarge, p4d.24xlarge: " in err
    assert "need 384 vCPUs (1 x 192 + 2 x 96) + 0 in use, quota 288 (applied): short by 96 vCPUs" in err


def test_running_instances_count_against_the_quota(fake: Any, capsys: pytest.CaptureFixture[str]) -> None:
    ec2 = fake.client("ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    ec2.run_instances(ImageId=image, InstanceType="g6e.12xlarge", MinCount=1, MaxCount=1)
    code, _, err = run(fake, capsys, "--instance-types", "g6e.12xlarge:2")
    assert code == 1
    assert "need 96 vCPUs (2 x 48) + 48 in use, quota 96 (applied): short by 48 vCPUs" in err


def test_spot_uses_spot_quotas(fake: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(fake, capsys, "--instance-types", "p5.48xlarge", "--capacity-type", "spot", "--json")
    assert code == 0
    assert (
        "All P Spot Instance Requests (L-7212CCBC): need 192 vCPUs" in rows(out)[("quota", "p5.48xlarge")][1]
    )


def test_spot_for_a_family_without_spot_fails(fake: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(fake, capsys, "--instance-types", "hpc7a.96xlarge", "--capacity-type", "spot")
    assert code == 1
    assert "HPC instances cannot run as Spot" in err


def test_unknown_instance_type_fails(fake: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(fake, capsys, "--instance-types", "p9.mega")
    assert code == 1
    assert "instance-type p9.mega: not an EC2 instance type in us-east-1" in err


@pytest.mark.parametrize(
    ("version", "code", "expected"),
    [
        ("1.29", 1, "eks-version 1.29: EKS does not offer 1.29 in us-east-1; offered: 1.31, 1.32, 1.33"),
        ("1.30", 1, "eks-version 1.30: 1.30 is no longer supported by EKS"),
        ("1.31", 0, "extended support only until 2028-03-01"),
    ],
)
def test_kubernetes_version(
    fake: Any, capsys: pytest.CaptureFixture[str], version: str, code: int, expected: str
) -> None:
    result, out, err = run(fake, capsys, "--instance-types", "m5.large", "--kubernetes-version", version)
    assert result == code
    assert expected in (err if code else out)


def _subnet(fake: Any, zone: str) -> str:
    ec2 = fake.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    return ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]


# --- the instance catalog against the Region's DescribeInstanceTypes -------------------------------


def test_catalog_agrees_with_the_region(fake: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(fake, capsys, "--instance-types", "p5.48xlarge,m5.large", "--json")
    assert code == 0
    table = rows(out)
    assert table[("catalog", "p5.48xlarge")] == (
        "ok",
        "matches the Region's DescribeInstanceTypes: p5.48xlarge (192 vCPU, 2048 GiB, x86_64; "
        "8 x NVIDIA H100 80 GiB; NVMe 8 x 3800 GB; EFA up to 32)",
    )
    assert table[("catalog", "m5.large")][0] == "ok"


def test_type_unknown_to_the_catalog_warns_with_the_register_call(
    fake: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(fake, capsys, "--instance-types", "p3dn.24xlarge", "--json")
    status, detail = rows(out)[("catalog", "p3dn.24xlarge")]
    assert status == "warn"
    assert "the node groups refuse it until your app registers it" in detail
    call = detail.split("before creating them: ", 1)[1]
    assert call.startswith(
        "eks_ai_data.catalog.register(eks_ai_data.catalog.InstanceSpec(name='p3dn.24xlarge'"
    )
    # the printed call is real: it registers the Region's facts
    import eks_ai_data
    from eks_ai_data import catalog

    try:
        eval(call, {"eks_ai_data": eks_ai_data})  # noqa: S307 - the report's own generated call
        spec = catalog.get("p3dn.24xlarge")
        assert (spec.accelerator_count, spec.accelerator_model, spec.nvme_disk_count) == (8, "V100", 2)
    finally:
        catalog.unregister("p3dn.24xlarge")


def test_catalog_difference_in_synthesized_facts_fails(fake: Any, capsys: pytest.CaptureFixture[str]) -> None:
    def fewer_efa(parsed: dict[str, Any]) -> None:
        for info in parsed.get("InstanceTypes", []):
            if info["InstanceType"] == "p5.48xlarge":
                info["NetworkInfo"]["EfaInfo"]["MaximumEfaInterfaces"] = 16
                info["GpuInfo"]["Gpus"][0]["MemoryInfo"]["SizeInMiB"] = 80000

    fake.responder.amend("ec2", "DescribeInstanceTypes", fewer_efa)
    code, out, err = run(fake, capsys, "--instance-types", "p5.48xlarge")
    assert code == 1
    assert (
        "catalog p5.48xlarge: the catalog differs from the Region's DescribeInstanceTypes in what the node group "
        "is synthesized from: max_efa_interfaces 32 (Region: 16); upgrade eks-ai-data"
    ) in err
    # the GPU memory difference is informational: a warning row, not a failure
    assert "accelerator_memory_mib 81920 (Region: 80000)" in out
    assert "accelerator_memory_mib" not in err


def test_region_without_neuron_info_for_trn2u_warns(fake: Any, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(fake, capsys, "--instance-types", "trn2u.48xlarge", "--json")
    catalog_rows = [c for c in json.loads(out)["checks"] if c["check"] == "catalog"]
    assert [(c["status"], c["detail"]) for c in catalog_rows] == [
        (
            "warn",
            "the Region reports no accelerators for trn2u.48xlarge; the catalog's 16 x Trainium2 come from the "
            "EC2 documentation",
        )
    ]


# --- capacity blocks ---------------------------------------------------------------------------------

CR = "cr-0123456789abcdef0"


def _reservation(**overrides: Any) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    reservation = {
        "CapacityReservationId": CR,
        "InstanceType": "p5.48xlarge",
        "InstancePlatform": "Linux/UNIX",
        "AvailabilityZone": "us-east-1b",
        "TotalInstanceCount": 4,
        "AvailableInstanceCount": 4,
        "State": "active",
        "StartDate": now - dt.timedelta(days=1),
        "EndDate": now + dt.timedelta(days=6),
        "EndDateType": "limited",
        "InstanceMatchCriteria": "targeted",
        "ReservationType": "capacity-block",
    }
    reservation.update(overrides)
    return reservation


def _answer_reservation(fake: Any, reservation: dict[str, Any] | None) -> None:
    def describe(params: dict[str, Any]) -> dict[str, Any]:
        assert params["CapacityReservationIds"] == [CR]
        if reservation is None:
            raise ApiError(
                "InvalidCapacityReservationId.NotFound", f"The capacity reservation ID '{CR}' does not exist"
            )
        return {"CapacityReservations": [reservation]}

    fake.responder.answer("ec2", "DescribeCapacityReservations", describe)


def _block_rows(out: str) -> list[tuple[str, str]]:
    return [(c["status"], c["detail"]) for c in json.loads(out)["checks"] if c["check"] == "capacity-block"]


def _run_block(fake: Any, capsys: pytest.CaptureFixture[str], plan: str, block: str) -> tuple[int, str, str]:
    return run(fake, capsys, "--instance-types", plan, "--capacity-reservation", block, "--json")


def test_active_capacity_block_that_fits_passes(fake: Any, capsys: pytest.CaptureFixture[str]) -> None:
    fake.quotas["L-417A185B"] = 768.0  # the planned nodes still go through the vCPU quota check
    _answer_reservation(fake, _reservation())
    code, out, err = run(
        fake, capsys, "--instance-types", "p5.48xlarge:4", "--capacity-reservation", f"{CR}:p5.48xlarge:us-east-1b",
        "--json",
    )  # fmt: skip
    assert code == 0, err
    [(status, detail)] = _block_rows(out)
    assert status == "ok"
    assert detail.startswith("active capacity block of 4 x p5.48xlarge in us-east-1b, ")


def test_scheduled_block_warns_to_keep_desired_size_zero(
    fake: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    _answer_reservation(
        fake, _reservation(State="scheduled", StartDate=start, EndDate=start + dt.timedelta(days=7))
    )
    code, out, _ = _run_block(fake, capsys, "p5.48xlarge:2", f"{CR}:p5.48xlarge")
    assert code == 0
    [(status, detail)] = _block_rows(out)
    assert status == "warn"
    assert (
        f"scheduled: starts at {start:%Y-%m-%d %H:%M} UTC; keep the node group's desired size at 0" in detail
    )


@pytest.mark.parametrize(
    ("overrides", "plan", "message"),
    [
        ({"State": "expired"}, "p5.48xlarge:4", "is expired: no instance can launch into it"),
        ({"State": "payment-failed"}, "p5.48xlarge:4", "is payment-failed"),
        (
            {"EndDate": dt.datetime(2020, 1, 2, tzinfo=dt.UTC)},
            "p5.48xlarge:4",
            "ended at 2020-01-02 00:00 UTC (state active)",
        ),
        (
            {"InstanceType": "p4d.24xlarge"},
            "p5.48xlarge:4",
            "reserves p4d.24xlarge, but the plan uses it for p5.48xlarge",
        ),
        ({"AvailabilityZone": "us-east-1c"}, "p5.48xlarge:4", "is in us-east-1c, not us-east-1b"),
        (
            {"TotalInstanceCount": 2, "AvailableInstanceCount": 2},
            "p5.48xlarge:4",
            "the plan has 4 x p5.48xlarge, the block reserves 2",
        ),
        (
            {"ReservationType": "default"},
            "p5.48xlarge:4",
            "is an On-Demand Capacity Reservation (ReservationType default)",
        ),
    ],
)
def test_capacity_block_that_does_not_fit_fails(
    fake: Any, capsys: pytest.CaptureFixture[str], overrides: dict[str, Any], plan: str, message: str
) -> None:
    _answer_reservation(fake, _reservation(**overrides))
    code, _, err = run(
        fake, capsys, "--instance-types", plan, "--capacity-reservation", f"{CR}:p5.48xlarge:us-east-1b"
    )
    assert code == 1
    assert f"capacity-block {CR}: {message}" in err


def test_block_outside_the_chosen_zones_fails(fake: Any, capsys: pytest.CaptureFixture[str]) -> None:
    _answer_reservation(fake, _reservation())
    code, _, err = run(
        fake, capsys, "--instance-types", "p5.48xlarge", "--availability-zones", "us-east-1a",
        "--capacity-reservation", f"{CR}:p5.48xlarge",
    )  # fmt: skip
    assert code == 1
    assert f"capacity-block {CR}: is in us-east-1b, which is not one of the chosen zones (us-east-1a)" in err


def test_busy_active_block_warns(fake: Any, capsys: pytest.CaptureFixture[str]) -> None:
    _answer_reservation(fake, _reservation(AvailableInstanceCount=1))
    code, out, _ = _run_block(fake, capsys, "p5.48xlarge:2", f"{CR}:p5.48xlarge")
    assert code == 0
    assert _block_rows(out) == [("warn", "active, but only 1 of 4 instances are free now (the plan needs 2)")]


def test_missing_reservation_fails(fake: Any, capsys: pytest.CaptureFixture[str]) -> None:
    _answer_reservation(fake, None)
    code, _, err = run(
        fake, capsys, "--instance-types", "p5.48xlarge", "--capacity-reservation", f"{CR}:p5.48xlarge"
    )
    assert code == 1
    assert f"capacity-block {CR}: no such capacity reservation in us-east-1" in err


def test_reserved_type_needs_no_zone_offering(fake: Any, capsys: pytest.CaptureFixture[str]) -> None:
    # moto offers p5e.48xlarge in no zone of us-east-1 (see test_type_offered_in_no_zone_fails): with a
    # capacity block the block's own zone counts, not the offerings
    fake.quotas["L-417A185B"] = 768.0
    _answer_reservation(fake, _reservation(InstanceType="p5e.48xlarge"))
    code, out, err = _run_block(fake, capsys, "p5e.48xlarge:4", f"{CR}:p5e.48xlarge")
    assert code == 0, err
    assert ("offering", "p5e.48xlarge") not in rows(out)
    assert _block_rows(out)[0][0] == "ok"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "cr-0123:p5.48xlarge",
            "invalid capacity reservation id 'cr-0123': a reservation id is cr- and 17 hex digits",
        ),
        (CR, "invalid capacity reservation: use --capacity-reservation cr-<17 hex digits>:TYPE[:AZ]"),
        (
            f"{CR}:g6e.12xlarge",
            f"capacity reservation {CR} is for g6e.12xlarge, which is not in --instance-types",
        ),
        (f"{CR}:p5.48xlarge:east", "invalid availability zone 'east'"),
    ],
)
def test_bad_capacity_reservation_option_is_a_usage_error(
    fake: Any, capsys: pytest.CaptureFixture[str], spec: str, message: str
) -> None:
    code, _, err = run(fake, capsys, "--instance-types", "p5.48xlarge", "--capacity-reservation", spec)
    assert code == 2
    assert message in err


def test_same_reservation_twice_is_a_usage_error(fake: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        fake, capsys, "--instance-types", "p5.48xlarge,p4d.24xlarge",
        "--capacity-reservation", f"{CR}:p5.48xlarge", "--capacity-reservation", f"{CR}:p4d.24xlarge",
    )  # fmt: skip
    assert code == 2
    assert "each --capacity-reservation must name a different reservation" in err

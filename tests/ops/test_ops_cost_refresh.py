"""The price table's refresh from the AWS Price List API, against botocore's Stubber.

moto 5.2.5 has no ``pricing`` backend, so GetProducts is stubbed: each answer is validated
against botocore's pricing service model, and ``PriceList`` items are JSON strings as the API
sends them (product attributes, and OnDemand terms with price dimensions).
"""

from __future__ import annotations

import datetime as dt
import json

import boto3
import pytest
from botocore.stub import Stubber

from eks_ai_data import catalog
from eks_ai_data.ops import price_refresh
from eks_ai_data.ops.prices import PriceTable

DAY = dt.date(2026, 12, 1)


def _product(usagetype: str, usd: str, unit: str, *, begin: str = "0", extra: dict | None = None) -> str:
    sku = "SKU" + str(abs(hash((usagetype, usd))) % 10**8)
    dimension = {
        "unit": unit,
        "endRange": "Inf",
        "description": f"${usd} per {unit}",
        "appliesTo": [],
        "rateCode": f"{sku}.JRTCKXETXF.6YS6EN2CT7",
        "beginRange": begin,
        "pricePerUnit": {"USD": usd},
    }
    return json.dumps(
        {
            "product": {
                "productFamily": "Compute Instance",
                "attributes": {"usagetype": usagetype, "regionCode": "us-west-2", **(extra or {})},
                "sku": sku,
            },
            "serviceCode": "AmazonEC2",
            "terms": {
                "OnDemand": {
                    f"{sku}.JRTCKXETXF": {
                        "priceDimensions": {f"{sku}.JRTCKXETXF.6YS6EN2CT7": dimension},
                        "sku": sku,
                        "effectiveDate": "2026-11-01T00:00:00Z",
                        "offerTermCode": "JRTCKXETXF",
                        "termAttributes": {},
                    }
                }
            },
            "version": "20261101000000",
            "publicationDate": "2026-11-01T00:00:00Z",
        }
    )


def _reserved_only(usagetype: str) -> str:
    return json.dumps(
        {"product": {"attributes": {"usagetype": usagetype}, "sku": "R1"}, "terms": {"Reserved": {}}}
    )


def _document() -> dict:
    return {
        "schema": 1,
        "as_of": "2026-07-20",
        "currency": "USD",
        "source": "the shipped table",
        "eks_versions": {},
        "regions": {
            "us-west-2": {
                "basis": "assumed equal to us-east-1",
                "estimated": ["ec2:*"],
                "prices": {
                    "ec2:p5.48xlarge": 50.0,
                    "ebs:gp3:gb-month": 0.07,
                    "nat:hour": 0.045,
                    "fsx:lustre:PERSISTENT_2:SSD:250:gb-month": 0.21,
                },
            }
        },
    }


def _client() -> tuple[object, Stubber]:
    client = boto3.client(
        "pricing",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - Stubber answers
    )
    return client, Stubber(client)


def _expect(
    stubber: Stubber, answers: dict[str, list[list[str]]], instance_types: list[str] | None = None
) -> None:
    """Queue one GetProducts answer (one or more pages) per query, in the order refresh asks."""
    for query in price_refresh.queries_for(
        _document()["regions"]["us-west-2"]["prices"], instance_types or []
    ):
        pages = answers.get(query.key, [[]])
        filters = [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": "us-west-2"}] + [
            {"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in query.filters.items()
        ]
        for number, page in enumerate(pages):
            response = {"FormatVersion": "aws_v1", "PriceList": page}
            if number + 1 < len(pages):
                response["NextToken"] = f"page-{number + 1}"
            params = {"ServiceCode": query.service, "Filters": filters, "FormatVersion": "aws_v1"}
            if number:
                params["NextToken"] = f"page-{number}"
            stubber.add_response("get_products", response, params)


def test_ec2_query_filters_are_linux_on_demand_shared_tenancy():
    query = price_refresh.ec2_query("p5.48xlarge")
    assert query.service == "AmazonEC2" and query.unit == "Hrs"
    assert query.filters == {
        "instanceType": "p5.48xlarge",
        "operatingSystem": "Linux",
        "tenancy": "Shared",
        "preInstalledSw": "NA",
        "capacitystatus": "Used",
        "licenseModel": "No License required",
        "operation": "RunInstances",
    }


def test_refresh_reads_prices_across_pages_and_keeps_what_it_cannot_answer():
    client, stubber = _client()
    _expect(
        stubber,
        {
            # two pages: the on-demand product, then one with reserved terms only
            "ec2:p5.48xlarge": [
                [_product("USW2-BoxUsage:p5.48xlarge", "55.0400000000", "Hrs")],
                [_reserved_only("USW2-BoxUsage:p5.48xlarge")],
            ],
            # the gp3 storage product, and a gp3 IOPS product the usage type suffix rules out
            "ebs:gp3:gb-month": [
                [
                    _product("USW2-EBS:VolumeUsage.gp3", "0.0800000000", "GB-Mo"),
                    _product("USW2-EBS:VolumeP-IOPS.gp3", "0.0050000000", "IOPS-Mo"),
                ]
            ],
            # two different prices for one key: ambiguous, the old figure stays
            "nat:hour": [
                [
                    _product("USW2-NatGateway-Hours", "0.0450000000", "Hrs"),
                    _product("USW2-NatGateway-Hours", "0.0500000000", "Hrs"),
                ]
            ],
        },
    )
    with stubber:
        result = price_refresh.refresh(_document(), client, today=DAY)
    stubber.assert_no_pending_responses()
    region = result.document["regions"]["us-west-2"]
    assert region["prices"]["ec2:p5.48xlarge"] == 55.04
    assert region["prices"]["ebs:gp3:gb-month"] == 0.08
    assert region["prices"]["nat:hour"] == 0.045  # kept
    assert region["prices"]["fsx:lustre:PERSISTENT_2:SSD:250:gb-month"] == 0.21  # no query: kept
    assert ("us-west-2", "nat:hour", [0.045, 0.05]) in result.ambiguous
    assert ("us-west-2", "eks:standard:hour") in result.not_found
    assert region["estimated"] == []  # the only estimated key was refreshed
    assert result.document["as_of"] == "2026-12-01"
    assert "AWS Price List API" in result.document["source"] and "2026-07-20" in result.document["source"]
    table = PriceTable.from_document(result.document)
    assert table.price("us-west-2", "ec2:p5.48xlarge").estimated is False


def test_first_tier_of_a_tiered_price():
    query = price_refresh.Query("s3:standard:gb-month", "AmazonS3", {}, "TimedStorage-ByteHrs")
    first = json.loads(_product("USW2-TimedStorage-ByteHrs", "0.0230000000", "GB-Mo"))
    later = json.loads(_product("USW2-TimedStorage-ByteHrs", "0.0220000000", "GB-Mo", begin="51200"))
    (term,) = first["terms"]["OnDemand"].values()
    (term_later,) = later["terms"]["OnDemand"].values()
    term["priceDimensions"] = {**term_later["priceDimensions"], **term["priceDimensions"]}
    assert price_refresh.on_demand_usd(json.dumps(first), query) == 0.023
    assert price_refresh.on_demand_usd("not json", query) is None


def test_main_writes_the_table_or_only_prints_it(tmp_path, capsys):
    output = tmp_path / "prices.json"
    output.write_text(json.dumps(_document()))
    for dry_run in (True, False):
        client, stubber = _client()
        answer = {"ec2:p5.48xlarge": [[_product("USW2-BoxUsage:p5.48xlarge", "55.0400000000", "Hrs")]]}
        _expect(
            stubber, answer, [s.name for s in catalog.all_instance_types()]
        )  # main asks for the catalog too
        argv = ["--output", str(output), "--regions", "us-west-2"] + (["--dry-run"] if dry_run else [])
        with stubber:
            assert price_refresh.main(argv, client=client) == 0
        written = json.loads(output.read_text())["regions"]["us-west-2"]["prices"]["ec2:p5.48xlarge"]
        assert written == (50.0 if dry_run else 55.04)
    assert "us-west-2 ec2:p5.48xlarge: 50.0 -> 55.04" in capsys.readouterr().out


def test_main_reports_an_api_error_without_traceback(tmp_path, capsys):
    output = tmp_path / "prices.json"
    output.write_text(json.dumps(_document()))
    client, stubber = _client()
    stubber.add_client_error(
        "get_products",
        "AccessDeniedException",
        "not authorized to perform pricing:GetProducts",
        400,
    )
    with stubber:
        assert price_refresh.main(["--output", str(output)], client=client) == 2
    err = capsys.readouterr().err
    assert "pricing:GetProducts" in err and "Traceback" not in err
    assert json.loads(output.read_text()) == _document()


def test_refresh_refuses_a_malformed_table():
    client, _ = _client()
    with pytest.raises(Exception, match="schema 1"):
        price_refresh.refresh({"schema": 2}, client)

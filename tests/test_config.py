"""PlatformConfig: context parsing, coercion, unknown fields, and environment-specific stacks."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest

from eks_ai_data.errors import EksAiDataValidationError
from stacks import build
from stacks.config import PlatformConfig


def _config(context: dict) -> PlatformConfig:
    return PlatformConfig.from_context(cdk.App(context=context))


def test_defaults_are_environment_agnostic():
    config = _config({})
    assert config.env is None
    assert config.kubernetes_version == "1.36"


def test_object_and_flat_overrides_are_merged_and_coerced():
    config = _config(
        {
            "eks-ai-data": {"teams": ["vision"], "training_gpu_max_nodes": 8},
            "eks-ai-data:region": "eu-west-1",
            "eks-ai-data:account": "111122223333",
            "eks-ai-data:availability_zones": "eu-west-1a, eu-west-1b",
            "eks-ai-data:training_gpu_efa": "false",
            "eks-ai-data:lustre_storage_gib": "4800",
        }
    )
    assert config.teams == ("vision",)
    assert config.training_gpu_max_nodes == 8
    assert config.availability_zones == ("eu-west-1a", "eu-west-1b")
    assert config.training_gpu_efa is False
    assert config.lustre_storage_gib == 4800
    assert config.env.region == "eu-west-1" and config.env.account == "111122223333"


@pytest.mark.parametrize(
    ("context", "message"),
    [
        (
            {"eks-ai-data": {"gpu": "p5"}},
            r"context 'eks-ai-data': invalid fields=\['gpu'\]: unknown; known fields",
        ),
        (
            {"eks-ai-data:training_gpu_efa": "maybe"},
            r"invalid training_gpu_efa='maybe': must be true or false",
        ),
        (
            {"eks-ai-data:lustre_storage_gib": "big"},
            r"invalid lustre_storage_gib='big': must be a whole number",
        ),
    ],
)
def test_bad_context_is_refused(context, message):
    with pytest.raises(EksAiDataValidationError, match=message):
        _config(context)


def test_team_role_arns_map_each_role_to_its_team():
    config = _config(
        {
            "eks-ai-data:team_role_arns": "research=arn:aws:iam::111122223333:role/A,"
            "research=arn:aws:iam::111122223333:role/B,platform=arn:aws:iam::111122223333:role/C"
        }
    )
    assert config.team_principals == {
        "research": ("arn:aws:iam::111122223333:role/A", "arn:aws:iam::111122223333:role/B"),
        "platform": ("arn:aws:iam::111122223333:role/C",),
    }
    with pytest.raises(
        EksAiDataValidationError, match=r"team_role_arns='vision=arn:x': entries must be '<team>="
    ):
        _ = _config({"eks-ai-data:team_role_arns": "vision=arn:x"}).team_principals
    with pytest.raises(
        EksAiDataValidationError, match=r"team_role_arns='arn:aws:iam::1:role/A': entries must be"
    ):
        _ = _config({"eks-ai-data:team_role_arns": "arn:aws:iam::1:role/A"}).team_principals


def test_a_region_without_availability_zones_is_refused_before_any_lookup():
    config = PlatformConfig(account="111122223333", region="eu-west-1")
    with pytest.raises(
        EksAiDataValidationError,
        match=r"availability_zones=None: the stack is in region eu-west-1 and would look its availability zones up",
    ):
        build(cdk.App(), config)


def test_environment_specific_platforms_synthesize_offline(tmp_path):
    config = PlatformConfig(
        account="111122223333",
        region="eu-west-1",
        availability_zones=("eu-west-1a", "eu-west-1b", "eu-west-1c"),
    )
    app = cdk.App(outdir=str(tmp_path))
    training, inference, *clusters = build(app, config)  # the data stacks first
    assembly = app.synth()
    assert [c.stack_name for c in clusters] == ["EksAiDataTrainingBlue", "EksAiDataInferenceBlue"]
    assert all(c.region == "eu-west-1" and c.account == "111122223333" for c in clusters)
    template = assembly.get_stack_by_name(training.stack_name).template
    zones = {
        r["Properties"]["AvailabilityZone"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::EC2::Subnet"
    }
    assert zones == {"eu-west-1a", "eu-west-1b", "eu-west-1c"}
    assert training.region == inference.region == "eu-west-1"
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert "missing" not in manifest  # no context lookup was needed (nothing would be asked of AWS)


@pytest.mark.parametrize(
    ("context", "message"),
    [
        (
            {"eks-ai-data:gpu_count": "2"},
            r"context 'eks-ai-data': invalid fields=\['eks-ai-data:gpu_count'\]: unknown; known fields: \['account', ",
        ),
        (
            {"eks-ai-data:account": "1111-2222-3333"},
            r"invalid account='1111-2222-3333': must be a 12-digit AWS",
        ),
        ({"eks-ai-data": {"account": 111122223333}}, r"invalid account=111122223333: must be a 12-digit AWS"),
        ({"eks-ai-data:region": "Ireland"}, r"invalid region='Ireland': must be an AWS Region name such as"),
        ({"eks-ai-data:region": "eu-west-1a"}, r"invalid region='eu-west-1a': must be an AWS Region name"),
        (
            {"eks-ai-data:training_gpu_max_nodes": "2.5"},
            r"invalid training_gpu_max_nodes='2.5': must be a whole",
        ),
        (
            {"eks-ai-data": {"training_gpu_max_nodes": 2.5}},
            r"invalid training_gpu_max_nodes=2.5: must be a whole",
        ),
        (
            {"eks-ai-data": {"inference_gpu_max_nodes": True}},
            r"invalid inference_gpu_max_nodes=True: must be a whole",
        ),
        # refused as the context field, before any stack (not as a construct's prop, nor as a Python error)
        (
            {"eks-ai-data:kubernetes_version": "1.99"},
            r"^context 'eks-ai-data': invalid kubernetes_version='1.99': must be one of \['1.33'",
        ),
        (
            {"eks-ai-data:training_gpu_instance_types": "p9.huge"},
            r"^context 'eks-ai-data': invalid training_gpu_instance_types='p9.huge': is not in the instance catalog",
        ),
        (
            {"eks-ai-data:inference_gpu_instance_types": "i4i.8xlarge"},
            r"^context 'eks-ai-data': invalid inference_gpu_instance_types='i4i.8xlarge': has no accelerators: ",
        ),
        (
            {"eks-ai-data:nvme_instance_types": "m7i.large"},
            r"^context 'eks-ai-data': invalid nvme_instance_types='m7i.large': has no NVMe instance store: ",
        ),
        (
            {"eks-ai-data:clusters": "blue,green:1.99"},
            r"^context 'eks-ai-data': invalid clusters='green:1.99': versions must be one of \['1.33'",
        ),
        (
            {"eks-ai-data:nvme_instance_types": ""},
            r"^context 'eks-ai-data': invalid nvme_instance_types=\[\]: must name at least one instance type",
        ),
        (
            {"eks-ai-data:training_gpu_max_nodes": "0"},
            r"^context 'eks-ai-data': invalid training_gpu_max_nodes=0: must be between 1 and 1000",
        ),
        (
            {"eks-ai-data:inference_gpu_max_nodes": "1001"},
            r"^context 'eks-ai-data': invalid inference_gpu_max_nodes=1001: must be between 1 and 1000",
        ),
        (
            {"eks-ai-data:nvme_mode": "raid"},
            r"^context 'eks-ai-data': invalid nvme_mode='raid': must be 'ephemeral'",
        ),
        (
            {"eks-ai-data:model_cache": "ram"},
            r"^context 'eks-ai-data': invalid model_cache='ram': must be one of",
        ),
        (
            {"eks-ai-data:lustre_throughput": "300"},
            r"^context 'eks-ai-data': invalid lustre_throughput=300: must be one of \[125, 250, 500, 1000\]",
        ),
        (
            {"eks-ai-data:lustre_storage_gib": "3600"},
            r"^context 'eks-ai-data': invalid lustre_storage_gib=3600: must be 1200, 2400, or a multiple of 2400",
        ),
        (
            {"eks-ai-data:teams": "research,Vision Team"},
            r"^context 'eks-ai-data': invalid teams='Vision Team': names must make a DNS-1123 label as 'team-<name>'",
        ),
        (
            {"eks-ai-data:teams": "a" * 59},
            r"^context 'eks-ai-data': invalid teams='a{59}': names must make a DNS-1123 label .* at most 58",
        ),
        (
            {"eks-ai-data:teams": "a,a"},
            r"^context 'eks-ai-data': invalid teams=\['a', 'a'\]: must not name a team",
        ),
        (
            {"eks-ai-data:backup_retention_days": "0"},
            r"^context 'eks-ai-data': invalid backup_retention_days=0: must be between 1 and 36500",
        ),
        (
            {"eks-ai-data:checkpoint_retention_days": "0"},
            r"^context 'eks-ai-data': invalid checkpoint_retention_days=0: must be at least 1",
        ),
    ],
)
def test_values_aws_would_refuse_are_refused(context, message):
    with pytest.raises(EksAiDataValidationError, match=message):
        _config(context)


def test_whole_numbers_account_and_region_forms_are_accepted():
    config = _config(
        {
            "eks-ai-data": {"inference_gpu_max_nodes": 3.0, "account": "000000000000"},
            "eks-ai-data:training_gpu_max_nodes": "3",
            "eks-ai-data:region": "us-gov-west-1",
            "other-tool:setting": "x",  # context of other tools is not ours to refuse
        }
    )
    assert config.training_gpu_max_nodes == 3 and isinstance(config.training_gpu_max_nodes, int)
    assert config.inference_gpu_max_nodes == 3 and isinstance(config.inference_gpu_max_nodes, int)
    assert (config.account, config.region) == ("000000000000", "us-gov-west-1")
    assert _config({"eks-ai-data:region": "ap-southeast-5"}).region == "ap-southeast-5"
    assert _config({"eks-ai-data:region": "cn-north-1"}).region == "cn-north-1"


def test_edge_values_of_the_fields_are_accepted():
    config = _config(
        {
            "eks-ai-data:teams": "a" * 58,  # team-<58 characters>: a 63-character label
            "eks-ai-data:lustre_storage_gib": "4800",
            "eks-ai-data:lustre_throughput": "1000",
            "eks-ai-data:backup_retention_days": "36500",
            "eks-ai-data:checkpoint_retention_days": "1",
            "eks-ai-data:training_gpu_max_nodes": "1000",
        }
    )
    assert config.teams == ("a" * 58,)
    assert (config.lustre_storage_gib, config.backup_retention_days) == (4800, 36500)

"""Guards against data loss in every synthesized template.

1. Every stateful resource (eks_ai_data.stateful.STATEFUL_RESOURCE_TYPES: file systems, buckets, keys, vaults,
   volumes, log groups, ...) has DeletionPolicy and UpdateReplacePolicy Retain.
2. The logical ids of stateful resources in the reference stacks are pinned in ``pinned_stateful_ids.json``.
   CloudFormation identifies a resource by its logical id: a changed id creates a new, empty resource and
   deletes (or, with Retain, orphans) the old one with its data. Pins change only deliberately.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eks_ai_data.stateful import STATEFUL_RESOURCE_TYPES

PINS = Path(__file__).with_name("pinned_stateful_ids.json")


def stateful_resources(template: dict) -> dict[str, dict]:
    return {k: v for k, v in template.get("Resources", {}).items() if v["Type"] in STATEFUL_RESOURCE_TYPES}


def test_every_stateful_resource_is_retained(reference):
    unretained = [
        f"{stack}/{logical_id} ({resource['Type']}): DeletionPolicy={resource.get('DeletionPolicy')}, "
        f"UpdateReplacePolicy={resource.get('UpdateReplacePolicy')}"
        for stack, template in sorted(reference.templates.items())
        for logical_id, resource in sorted(stateful_resources(template).items())
        if resource.get("DeletionPolicy") != "Retain" or resource.get("UpdateReplacePolicy") != "Retain"
    ]
    assert unretained == [], "stateful resources must be retained on deletion and replacement"


def test_reference_stacks_have_stateful_resources_to_guard(reference):
    assert all(stateful_resources(t) for t in reference.templates.values())


def _current(reference) -> dict[str, dict[str, str]]:
    return {
        stack: {logical_id: r["Type"] for logical_id, r in sorted(stateful_resources(template).items())}
        for stack, template in sorted(reference.templates.items())
    }


def test_stateful_logical_ids_are_pinned(reference):
    pinned = json.loads(PINS.read_text())
    current = _current(reference)
    lost = [
        f"{stack}/{logical_id} ({type_})"
        for stack, resources in pinned.items()
        for logical_id, type_ in resources.items()
        if current.get(stack, {}).get(logical_id) != type_
    ]
    if lost:
        pytest.fail(
            "these stateful resources changed their logical id (or type) or disappeared: "
            + ", ".join(lost)
            + ". CloudFormation would create new, empty resources and delete or orphan the old ones with their "
            "data. Restore the construct ids (or the stack names), or, if losing or migrating the data is "
            f"intended, update {PINS.name} in the same change and say so in its review.",
            pytrace=False,
        )
    unpinned = [
        f"{stack}/{logical_id}"
        for stack, resources in current.items()
        for logical_id in resources
        if logical_id not in pinned.get(stack, {})
    ]
    assert unpinned == [], f"new stateful resources: pin their logical ids in {PINS.name}:\n" + json.dumps(
        current, indent=2
    )

"""Where a file system's client security-group rules live, and what tells two client groups apart.

File systems admit their clients with rules that are separate resources on the consuming side: in the client
group's stack when that is another stack, so a data stack never references a cluster stack (no dependency cycle
when data and clusters live in separate stacks). A client group is identified by its id as its own stack resolves
it, qualified by that stack: two cluster stacks built from the same code have equal logical ids, and their
cluster security groups must not be taken for one. Rule ids derive from that identity, not from the order in which
clients were admitted, so that removing one cluster stack never renames (replaces) another one's rules (a
replacement would create a duplicate rule first, which EC2 refuses).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from constructs import Construct


def client_key(group: ec2.ISecurityGroup) -> str:
    """The identity of a client group: its concrete id, or its stack's path with the id as that stack resolves it."""
    stack = Stack.of(group)
    value = stack.resolve(group.security_group_id)
    if isinstance(value, str):
        return value
    return json.dumps([stack.node.path, value], sort_keys=True)


def client_suffix(group: ec2.ISecurityGroup, home: Construct) -> str:
    """Eight hexadecimal characters naming the client in rule construct ids under ``home``.

    From the group's id as its stack resolves it when the rules live in that stack (the same code gives the same
    rule ids in every cluster stack), else from :func:`client_key` (clients of several stacks, one home).
    """
    stack = Stack.of(group)
    same = Stack.of(home).node.path == stack.node.path
    text = json.dumps(stack.resolve(group.security_group_id), sort_keys=True) if same else client_key(group)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def client_home(owner: Construct, group: ec2.ISecurityGroup, scope: Construct | None) -> Construct:
    """``scope`` if given; else the client group's stack when it is not ``owner``'s, else ``owner``."""
    if scope is not None:
        return scope
    group_stack = Stack.of(group)
    return group_stack if group_stack.node.path != Stack.of(owner).node.path else owner


def rules_of_same_group(owner: Any, base: Any, client: str) -> Any | None:
    """The rules another ``base`` instance of the app created for ``client`` (a :func:`client_key`) on ``owner``'s
    security group, if any: file systems imported from elsewhere may share one group (one made by Terraform for
    several file systems), and a second copy of the same rule would fail to deploy (EC2:
    InvalidPermission.Duplicate). ``base`` instances keep their rules in ``_clients`` by client key."""
    mine = client_key(owner.security_group)
    for other in owner.node.root.node.find_all():
        if (
            isinstance(other, base)
            and other is not owner
            and client in other._clients
            and client_key(other.security_group) == mine
        ):
            return other._clients[client]
    return None

"""Helpers the OpenStack rule modules share: the section and the area's derived state."""
from __future__ import annotations

from hatui.model.openstack import OpenStackState
from hatui.rules import RuleContext


def section(ctx: RuleContext):
    return ctx.config.section("openstack")


def state(ctx: RuleContext) -> OpenStackState | None:
    return ctx.cloud.openstack

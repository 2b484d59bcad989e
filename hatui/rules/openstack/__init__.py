"""OpenStack rules, one module per source: keystone, endpoints (API endpoints), haproxy, services.
They read the area's derived state (hatui.model.openstack.OpenStackState, ``ctx.cloud.openstack``).

Ids are ``<source>.<condition>:<subject>``, like the generic freshness rules' (keystone.unreachable:
<cloud> comes from there: Keystone down is that one finding, worded by the keystone source, while the
endpoints go on being probed from the last catalog).
"""
from __future__ import annotations

from hatui.rules.openstack import endpoints, haproxy, keystone, services

RULES = [*keystone.RULES, *endpoints.RULES, *haproxy.RULES, *services.RULES]

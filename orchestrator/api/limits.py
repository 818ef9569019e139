"""``GET /v2.1/limits``: the caller's project's limits and usage, as Nova's.

``{"limits": {"rate": [], "absolute": {"maxTotalInstances": 10, ...,
"totalInstancesUsed": 2, ...}}}``; ``?tenant_id=`` names another project
(administrators only, policy ``os_compute_api:limits:other_project``).
The keys follow the microversion as Nova's do: nova-network's until 2.35,
``maxImageMeta`` until 2.38, ``maxPersonality`` and
``maxPersonalitySize`` until 2.56. ``rate`` is always empty (no rate
limits, as in Nova since Newton).
"""

from orchestrator import quota
from orchestrator.api import query
from orchestrator.api import quota_sets
from orchestrator.api import request as api_request
from orchestrator.db import quotas as db_quotas
from orchestrator.db import server_groups as db_groups
from orchestrator.policies import quotas as rules

#: (quota resource, absolute limit key), Nova's names.
LIMIT_KEYS = (
    ('instances', 'maxTotalInstances'),
    ('cores', 'maxTotalCores'),
    ('ram', 'maxTotalRAMSize'),
    ('key_pairs', 'maxTotalKeypairs'),
    ('floating_ips', 'maxTotalFloatingIps'),
    ('metadata_items', 'maxServerMeta'),
    ('metadata_items', 'maxImageMeta'),
    ('injected_files', 'maxPersonality'),
    ('injected_file_content_bytes', 'maxPersonalitySize'),
    ('security_groups', 'maxSecurityGroups'),
    ('security_group_rules', 'maxSecurityGroupRules'),
    ('server_groups', 'maxServerGroups'),
    ('server_group_members', 'maxServerGroupMembers'),
)
#: (quota resource, usage key), Nova's names.
USED_KEYS = (
    ('instances', 'totalInstancesUsed'),
    ('cores', 'totalCoresUsed'),
    ('ram', 'totalRAMUsed'),
    ('floating_ips', 'totalFloatingIpsUsed'),
    ('security_groups', 'totalSecurityGroupsUsed'),
    ('server_groups', 'totalServerGroupsUsed'),
)
#: The first microversion without maxImageMeta.
NO_IMAGE_META = (2, 39)


def absolute(version, limits, used):
    """The ``absolute`` document of microversion ``version`` for
    ``limits`` and ``used`` ({resource: number}; absent usage is 0)."""
    resources = set(quota_sets.shown(version))
    body = {key: limits[resource] for resource, key in LIMIT_KEYS
            if resource in resources
            and not (key == 'maxImageMeta' and version >= NO_IMAGE_META)}
    body.update({key: used.get(resource, 0) for resource, key in USED_KEYS
                 if resource in resources})
    return body


def index(req):
    """GET /limits."""
    req.authorize(rules.LIMITS)
    project_id = req.context.project_id
    tenant_id = query.one(req, 'tenant_id')
    if tenant_id is not None:
        req.authorize(rules.LIMITS_OTHER_PROJECT)
        project_id = tenant_id
    limits = quota.for_project(req.conf, project_id).limits()
    return api_request.json_response({'limits': {
        'rate': [],
        'absolute': absolute(req.api_version, limits, dict(
            db_quotas.usage(project_id),
            server_groups=db_groups.count(project_id)))}})


def register(router):
    router.add('GET', '/v2.1/limits', index)

"""Quotas as the Compute API has them: Nova's resources, their defaults
(``[quota]``, :mod:`orchestrator.conf.quota`) and what each claim asks.

The storage, the usage and the locked check are
:mod:`orchestrator.db.quotas`; here is what the API hands them:
:func:`for_project` (a project's quota with this service's defaults),
:func:`boot_deltas` (a new server, or a restored one) and
:func:`upsize_deltas` (a resize: only what grows is asked for, as Nova).
"""

from orchestrator.db import quotas as db_quotas

#: Every quota resource, in Nova's order, with its ``[quota]`` option;
#: None for Nova-network's, which Nova keeps (unlimited) for old clients.
DEFAULT_OPTIONS = {
    'instances': 'instances',
    'cores': 'cores',
    'ram': 'ram',
    'metadata_items': 'metadata_items',
    'injected_files': 'injected_files',
    'injected_file_content_bytes': 'injected_file_content_bytes',
    'injected_file_path_bytes': 'injected_file_path_length',
    'key_pairs': 'key_pairs',
    'server_groups': 'server_groups',
    'server_group_members': 'server_group_members',
    'fixed_ips': None,
    'floating_ips': None,
    'security_groups': None,
    'security_group_rules': None,
}


def defaults(conf):
    """{resource: default limit} from ``conf``'s ``[quota]``."""
    return {resource: (getattr(conf.quota, option) if option
                       else db_quotas.UNLIMITED)
            for resource, option in DEFAULT_OPTIONS.items()}


def for_project(conf, project_id):
    """The :class:`orchestrator.db.quotas.Quota` of ``project_id``."""
    return db_quotas.Quota(project_id, defaults(conf))


def boot_deltas(flavor):
    """What one server of ``flavor`` (a dict with vcpus and memory_mb)
    takes."""
    return {'instances': 1, 'cores': int(flavor.get('vcpus') or 0),
            'ram': int(flavor.get('memory_mb') or 0)}


def upsize_deltas(old_flavor, new_flavor):
    """What a resize from ``old_flavor`` to ``new_flavor`` asks for: the
    growth of cores and ram (0 where it shrinks)."""
    old, new = boot_deltas(old_flavor or {}), boot_deltas(new_flavor)
    return {key: max(0, new[key] - old[key]) for key in ('cores', 'ram')}

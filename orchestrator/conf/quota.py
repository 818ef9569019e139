"""[quota] options: the default limits of every project.

An administrator overrides them per project through ``PUT
/v2.1/os-quota-sets/{project_id}`` (stored in the ``project_quotas``
table); a project without an override gets these. -1 means unlimited.

``instances``, ``cores`` and ``ram`` are counted and enforced in the same
transaction as the claim that uses them (:mod:`orchestrator.quota`);
``metadata_items`` limits the metadata of a create request. The others
exist so that the API shows and stores what Nova's does: this service has
no key pairs, server groups or file injection, so nothing uses them.
"""

from oslo_config import cfg

group = cfg.OptGroup('quota', title='Quotas',
                     help='Default per-project limits (-1: unlimited).')

opts = [
    cfg.IntOpt('instances', default=10, min=-1,
               help='Servers a project may have (soft-deleted ones do not '
                    'count, as in Nova; a restore checks the quota).'),
    cfg.IntOpt('cores', default=20, min=-1,
               help='vCPUs the servers of a project may have; a server '
                    'being resized counts the larger of its old and new '
                    'flavors until the resize is confirmed or reverted.'),
    cfg.IntOpt('ram', default=51200, min=-1,
               help='MiB of RAM the servers of a project may have (a '
                    'resize counts as for cores).'),
    cfg.IntOpt('metadata_items', default=128, min=-1,
               help='Metadata items a server may be created with.'),
    cfg.IntOpt('injected_files', default=5, min=-1,
               help='Shown as Nova does (maxPersonality); this service '
                    'injects no files.'),
    cfg.IntOpt('injected_file_content_bytes', default=10240, min=-1,
               help='Shown as Nova does (maxPersonalitySize); this service '
                    'injects no files.'),
    cfg.IntOpt('injected_file_path_length', default=255, min=-1,
               help='Shown as Nova does (quota injected_file_path_bytes); '
                    'this service injects no files.'),
    cfg.IntOpt('key_pairs', default=100, min=-1,
               help='Shown as Nova does (maxTotalKeypairs); this service '
                    'has no key pairs.'),
    cfg.IntOpt('server_groups', default=10, min=-1,
               help='Shown as Nova does (maxServerGroups); this service has '
                    'no server groups.'),
    cfg.IntOpt('server_group_members', default=10, min=-1,
               help='Shown as Nova does (maxServerGroupMembers); this '
                    'service has no server groups.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}

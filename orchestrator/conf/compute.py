"""[compute] options of a compute agent."""

from oslo_config import cfg

group = cfg.OptGroup('compute', title='Compute agent')

opts = [
    cfg.StrOpt('driver', default='fake',
               help='Virt driver, by its name in the '
                    'orchestrator.compute_drivers entry point group.'),
    cfg.FloatOpt('heartbeat_interval_s', default=10.0, min=0.1,
                 help='How often the agent reports its heartbeat and '
                      'resources to the conductor.'),
    cfg.FloatOpt('sync_power_state_interval_s', default=60.0,
                 help='How often the agent reports the power state of '
                      'every guest to the conductor, which reconciles the '
                      'database with them (it also reports at once when '
                      'the driver signals a guest changed by itself). A '
                      'value below 0 disables reports, and so '
                      'reconciliation, for this host; values from 0 to '
                      '0.1 are taken as 0.1.'),
    cfg.StrOpt('availability_zone', default='nova',
               help='Availability zone of this host, reported with its '
                    'heartbeat; a server created in a zone is only '
                    'scheduled on hosts of that zone.'),
    cfg.IntOpt('vcpus', default=16, min=1,
               help='vCPUs this host offers (fake driver).'),
    cfg.IntOpt('memory_mb', default=32768, min=1,
               help='RAM this host offers in MiB (fake driver).'),
    cfg.IntOpt('disk_gb', default=500, min=1,
               help='Local disk this host offers in GiB (fake driver).'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}

"""[conductor] options: job running, leases and periodic tasks."""

from oslo_config import cfg

group = cfg.OptGroup('conductor', title='Conductor service')

opts = [
    cfg.IntOpt('max_simultaneous_jobs', default=16, min=1,
               help='Most jobs (flows) one conductor runs at once.'),
    cfg.IntOpt('engine_workers', default=4, min=1,
               help='Threads of each flow engine (parallel engine).'),
    cfg.FloatOpt('claim_lease_s', default=30.0, min=1.0,
                 help='A job claim lasts this long unless renewed; a '
                      'conductor that dies loses its jobs after it.'),
    cfg.FloatOpt('lease_renew_interval_s', default=5.0, min=0.1,
                 help='How often a conductor renews the claims of the jobs '
                      'it runs. Must be well under claim_lease_s.'),
    cfg.FloatOpt('job_poll_interval_s', default=0.5, min=0.05,
                 help='How long the conductor waits for new jobs between '
                      'looks at the jobboard.'),
    cfg.FloatOpt('soft_reboot_timeout_s', default=60.0, min=0.1,
                 help='A soft reboot that has not finished after this '
                      'many seconds becomes a hard reboot.'),
    cfg.IntOpt('heartbeat_check_interval_s', default=10, min=1,
               help='How often the conductor looks for hosts that went '
                    'down.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}

"""[scheduler] options: host selection and capacity."""

from oslo_config import cfg

group = cfg.OptGroup('scheduler', title='Scheduler')

opts = [
    cfg.FloatOpt('cpu_allocation_ratio', default=4.0, min=0.0,
                 help='vCPUs that can be allocated per physical vCPU.'),
    cfg.FloatOpt('ram_allocation_ratio', default=1.0, min=0.0,
                 help='RAM that can be allocated per MiB of host RAM.'),
    cfg.FloatOpt('disk_allocation_ratio', default=1.0, min=0.0,
                 help='Disk that can be allocated per GiB of host disk.'),
    cfg.IntOpt('claim_retries', default=10, min=1,
               help='Times a claim is retried when another claim changed '
                    'the same host at the same moment.'),
    cfg.StrOpt('weigher', default='spread', choices=[
        ('spread', 'most free RAM first: instances spread over hosts'),
        ('pack', 'least free RAM first: hosts fill up one by one')],
               help='How hosts that pass the filters are ordered.'),
    cfg.IntOpt('max_attempts', default=3, min=1,
               help='Hosts a build is tried on: a build that fails on its '
                    'host is undone there and rescheduled on the next '
                    'alternate host the scheduler chose, up to this many '
                    'attempts in all. 1 disables rescheduling.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}

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
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}

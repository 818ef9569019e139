"""[jobboard] options: where conductors find their jobs."""

from oslo_config import cfg

group = cfg.OptGroup('jobboard', title='Jobboard')

opts = [
    cfg.StrOpt('backend', default='sql',
               help='Jobboard backend, by its name in the '
                    'orchestrator.jobboards entry point group: "sql" (our '
                    'jobboard on the main database) or "redis".'),
    cfg.StrOpt('board_name', default='orchestrator',
               help='Name of the board; conductors sharing work use the '
                    'same name.'),
    cfg.StrOpt('redis_url', default='redis://127.0.0.1:6379/0',
               help='Redis server of the redis backend.'),
    cfg.StrOpt('redis_namespace', default='orchestrator',
               help='Key prefix of the redis backend.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}

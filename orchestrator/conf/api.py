"""[api] options of the HTTP API service."""

from oslo_config import cfg

group = cfg.OptGroup('api', title='Compute API service')

opts = [
    cfg.HostAddressOpt('listen_host', default='127.0.0.1',
                       help='Address the API listens on.'),
    cfg.PortOpt('listen_port', default=8774,
                help='TCP port the API listens on.'),
    cfg.IntOpt('threads', default=16, min=1,
               help='Worker threads of the WSGI server.'),
    cfg.IntOpt('backlog', default=4096, min=1,
               help='Connections the listening socket queues while every '
                    'worker thread is busy; beyond it new clients are '
                    'refused (the kernel may cap it at net.core.somaxconn).'),
    cfg.StrOpt('auth_strategy', default='noauth',
               choices=[('noauth', 'Accept any token (or none); the caller '
                                   'is an admin of default_project_id.')],
               help='How callers are authenticated.'),
    cfg.StrOpt('default_project_id', default='default',
               help='Project of callers under the noauth strategy.'),
    cfg.StrOpt('default_user_id', default='admin',
               help='User of callers under the noauth strategy.'),
    cfg.IntOpt('max_limit', default=1000, min=1,
               help='Most items one list request returns.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}

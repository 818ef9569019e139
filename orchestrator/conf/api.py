"""[api] options of the HTTP API service."""

from oslo_config import cfg

group = cfg.OptGroup('api', title='Compute API service')

opts = [
    cfg.HostAddressOpt('listen_host', default='127.0.0.1',
                       help='Address the API listens on.'),
    cfg.PortOpt('listen_port', default=8774,
                help='TCP port the API listens on.'),
    cfg.IntOpt('threads', default=16, min=1,
               help='Worker threads of the WSGI server: requests answered '
                    'at once. A worker only takes a request once it has '
                    'fully arrived; slow and idle clients wait in one '
                    'selector thread, not in workers.'),
    cfg.IntOpt('backlog', default=4096, min=1,
               help='Connections the listening socket queues while every '
                    'worker thread is busy; beyond it new clients are '
                    'refused (the kernel may cap it at net.core.somaxconn).'),
    cfg.IntOpt('max_connections', default=1000, min=1,
               help='Client connections open at once in one API process '
                    '(idle, being read or being answered). Beyond it the '
                    'connection idle the longest is closed to make room, '
                    'or the newcomer gets 503 when none is idle. Lowered '
                    'at start if the open files limit (ulimit -n) cannot '
                    'hold it.'),
    cfg.FloatOpt('idle_timeout_s', default=30.0, min=0.1,
                 help='Seconds a connection may stay open without starting '
                      'a request (a new one, or one kept alive after a '
                      'response); then it is closed. Idle connections hold '
                      'no worker thread.'),
    cfg.FloatOpt('header_timeout_s', default=20.0, min=0.1,
                 help='Seconds from the first byte of a request to the end '
                      'of its headers, however slowly they trickle in; '
                      'then 408. A request is handed to a worker thread '
                      'only once it has fully arrived.'),
    cfg.FloatOpt('body_timeout_s', default=60.0, min=0.1,
                 help='Seconds from the end of the headers to the end of '
                      'the body (bodies are at most [oslo_middleware] '
                      'max_request_body_size); then 408.'),
    cfg.FloatOpt('send_timeout_s', default=30.0, min=0.1,
                 help='Seconds a response may take to reach its client, '
                      'from the end of the request; a client reading more '
                      'slowly loses its connection and frees its worker '
                      'thread.'),
    cfg.IntOpt('max_header_bytes', default=65536, min=1024,
               help='Most bytes of a request line and headers: a longer '
                    'request line is a 414, longer headers a 431.'),
    cfg.StrOpt('auth_strategy', default='noauth',
               choices=[
                   ('noauth', 'Development only: no authentication at all; '
                              'every caller is an administrator of '
                              'default_project_id. Refused on an address '
                              'beyond loopback unless '
                              'allow_noauth_beyond_loopback is set.'),
                   ('keystone', 'Keystone tokens (X-Auth-Token), checked '
                                "by keystonemiddleware's auth_token with "
                                'the [keystone_authtoken] options.'),
                   ('http_basic', 'HTTP Basic authentication against the '
                                  'users of http_basic_auth_user_file.')],
               help='How callers are authenticated. Whatever the strategy, '
                    'a caller has a user, a project and roles (admin, '
                    'member, reader); the admin role makes an '
                    'administrator.'),
    cfg.BoolOpt('allow_noauth_beyond_loopback', default=False,
                help='Let a daemon serve the API with auth_strategy = '
                     'noauth on an address that is not a loopback one '
                     '(anybody who reaches it is an administrator). '
                     'Without it such a daemon refuses to start.'),
    cfg.StrOpt('http_basic_auth_user_file',
               default='/etc/orchestrator/htpasswd',
               help='The users of auth_strategy = http_basic, one a line: '
                    '"NAME:BCRYPT_HASH:PROJECT_ID:ROLE[,ROLE...]" (blank '
                    'lines and lines starting with # are ignored). Add '
                    'users with "orchestrator-manage users add". Read at '
                    'start and again whenever the file changes; it should '
                    'be readable by the API service only (mode 0600).'),
    cfg.StrOpt('default_project_id', default='default',
               help='Project of callers under the noauth strategy.'),
    cfg.StrOpt('default_user_id', default='admin',
               help='User of callers under the noauth strategy.'),
    cfg.IntOpt('max_limit', default=1000, min=1,
               help='Most items one list request returns.'),
    cfg.IntOpt('max_servers_per_request', default=100, min=1,
               help='Most servers one POST /servers may ask for '
                    '(max_count, and min_count): a larger count is a 400. '
                    'Nova has no such cap beyond the quota; it keeps one '
                    'request from inserting an unbounded number of rows '
                    'and flows in one transaction (a project whose '
                    'instances quota is unlimited could otherwise ask for '
                    'millions).'),
    cfg.StrOpt('multi_instance_display_name_template',
               default='%(name)s-%(count)d',
               help='The name of each server of a request that creates '
                    'more than one (max_count > 1 and more than one '
                    'created), from the requested name: %(name)s, '
                    '%(count)d (its position, from 1) and %(uuid)s may be '
                    'used. The server\'s hostname follows its name.'),
    cfg.URIOpt('public_endpoint', schemes=['http', 'https'],
               help='The URL clients reach the API at (scheme, host, port '
                    'and any path prefix, e.g. '
                    'https://compute.example.com:8774). Links in '
                    'responses and Location headers are built from it. '
                    'Unset, they are built from the request (its Host '
                    'header, or X-Forwarded-* behind a proxy when '
                    '[oslo_middleware] enable_proxy_headers_parsing is '
                    'on), which any client can set: set it in '
                    'production.'),
    cfg.StrOpt('image_store_path', default='$state_path/images',
               help='Directory of the image service\'s image data (one '
                    'file per uploaded image, named by its id). An upload '
                    'is written there in chunks as it is read; its size '
                    'is bounded by [oslo_middleware] '
                    'max_request_body_size, as any request body.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}

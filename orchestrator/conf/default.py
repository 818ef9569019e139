"""[DEFAULT] options shared by every service."""

import socket

from oslo_config import cfg

opts = [
    cfg.StrOpt('host', default=socket.gethostname(),
               sample_default='<hostname>',
               help='Name of this node: the compute host name a compute '
                    'agent serves as, and the name a conductor claims '
                    'jobs under.'),
    cfg.StrOpt('state_path', default='/var/lib/orchestrator',
               help='Directory for the state files of this node (the fake '
                    'driver\'s guests, the all-in-one\'s SQLite file).'),
    cfg.StrOpt('secrets_key_file', default='$state_path/secrets.key',
               help='File of the key(s) that seal the secrets a flow '
                    'carries to a host (the rescue password): one Fernet '
                    'key per line, the first seals, any opens. The API '
                    'and every conductor need the same file (mode 0600) '
                    'and refuse to start without it; the all-in-one '
                    'creates it, "orchestrator-manage secrets create-key" '
                    'creates it for the others.'),
    cfg.IntOpt('service_down_time_s', default=60, min=1,
               help='A service whose last heartbeat is older than this many '
                    'seconds is shown down and gets no new work.'),
    cfg.IntOpt('compute_rpc_timeout_s', default=60, min=1,
               help='Timeout of every RPC call from a conductor to a '
                    'compute host, in seconds.'),
    cfg.IntOpt('conductor_rpc_timeout_s', default=30, min=1,
               help='Timeout of RPC calls from the API to a conductor.'),
    cfg.FloatOpt('reclaim_instance_interval_s', default=0.0,
                 help='When > 0, deleting a server soft-deletes it: its '
                      'guest is powered off and kept, and it can be '
                      'restored for this many seconds; then a conductor '
                      'deletes it for good (force delete still deletes at '
                      'once). 0 or less: a delete is final at once.'),
    cfg.IntOpt('shelved_offload_time', default=0, min=-1,
               help='Seconds a shelved server keeps its guest and its '
                    'host\'s capacity before a conductor offloads it '
                    '(guest destroyed, capacity released: '
                    'SHELVED_OFFLOADED), as Nova\'s option of this name. '
                    '0: offloaded at once, in the shelve itself; -1: never '
                    '(only an administrator\'s shelveOffload does).'),
    cfg.BoolOpt('allow_resize_to_same_host', default=False,
                help='Let a resize pick the server\'s own host when it has '
                     'room (a cold migration never does).'),
    cfg.FloatOpt('resize_confirm_window_s', default=0.0,
                 help='When > 0, a resize or cold migration left waiting '
                      'for confirmation (VERIFY_RESIZE) this many seconds '
                      'is confirmed by a conductor. 0 or less: never.'),
]


def register_opts(conf):
    conf.register_opts(opts)


def list_opts():
    return {'DEFAULT': opts}

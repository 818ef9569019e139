"""A server's consoles.

* ``{"os-getConsoleOutput": {"length"?}}`` (200 ``{"output"}``): the
  guest's console log, read from its compute host by an RPC call
  (:meth:`orchestrator.compute.rpcapi.ComputeAPI.get_console_output`):
  the last ``length`` lines, all of them for -1 or null. 409 while the
  server has no host, is being deleted or migrated, or its host's
  compute service is down; 404 when the host has no guest for it; 503
  when the host does not answer.
* Remote consoles, ``POST /servers/{id}/remote-consoles`` (2.6, mks
  2.8) and the actions before it (``os-getVNCConsole``,
  ``os-getSPICEConsole``, ``os-getRDPConsole``, ``os-getSerialConsole``,
  up to 2.5): this deployment runs no console proxy, so every console
  type is unavailable, which Nova answers with a 400 "Unavailable
  console type" after checking the request and the server (404, 409).

None of them changes the server, so none runs a flow or records an
instance action, and a locked server still answers them.
"""

import oslo_messaging as messaging
from oslo_log import log as logging

from orchestrator import exception
from orchestrator import states
from orchestrator.api import request as api_request
from orchestrator.api import server_actions
from orchestrator.api import server_actions_admin
from orchestrator.api import servers
from orchestrator.api import validation
from orchestrator.api.schemas import consoles as schemas
from orchestrator.compute import rpcapi as compute_rpcapi
from orchestrator.policies import consoles as rules

LOG = logging.getLogger(__name__)

#: Task states during which the guest may be gone or elsewhere (Nova's
#: reject_instance_state on get_console_output).
_BUSY = frozenset([states.DELETING, states.SOFT_DELETING, states.MIGRATING])


def _host_of(req, instance, what):
    """The host serving the server's console; 409 when there is none."""
    host = instance.get('host')
    if not host:
        raise exception.Conflict('Instance %s is not ready: it has no host '
                                 'yet.' % instance['uuid'])
    if instance.get('task_state') in _BUSY:
        raise exception.InstanceInvalidState(
            reason="Cannot '%s' instance %s while it is in task_state %s"
                   % (what, instance['uuid'], instance['task_state']))
    return host


def _length(value):
    """The number of lines asked for: None for all."""
    length = value.get('length')
    if length is None:
        return None
    length = int(length)
    if length < -1:
        raise exception.Invalid('Invalid input for field/attribute length. '
                                'Value: %s. %s is less than the minimum of '
                                '-1' % (length, length))
    return None if length == -1 else length


@server_actions.action('os-getConsoleOutput')
def get_console_output(req, server_id, value):
    """{"os-getConsoleOutput": {"length"?}} (200; 400, 404, 409, 503)."""
    validation.validate({'os-getConsoleOutput': value},
                        schemas.get_console_output)
    length = _length(value)
    instance = servers.get_instance(req, server_id)
    host = _host_of(req, instance, 'get_console_output')
    if not server_actions_admin.host_is_up(req, host):
        raise exception.Conflict('Compute service of %s is unavailable at '
                                 'this time.' % host)
    try:
        output = compute_rpcapi.client().get_console_output(
            req.context, host, compute_rpcapi.instance_payload(instance),
            length=length)
    except exception.GuestNotFound:
        raise exception.NotFound('Guest does not have a console '
                                 'available.') from None
    except messaging.MessagingException as e:
        LOG.warning('Request %s: console output of %s not read from %s '
                    '(%s)', req.context.request_id, server_id, host,
                    type(e).__name__)
        raise exception.ServiceUnavailable(
            reason='the compute host %s did not answer' % host) from None
    return api_request.json_response({'output': output})


def _unavailable(req, server_id, console_type, what):
    """Check the server (404, 409), then say the console type is not
    served here (400)."""
    _host_of(req, servers.get_instance(req, server_id), what)
    raise exception.Invalid('Unavailable console type %s.' % console_type)


def _legacy(key, types, what):
    schema = schemas.legacy_console(key, types)

    def handler(req, server_id, value):
        if req.at_least(2, 6):
            raise exception.Invalid('Unsupported action: %s' % key)
        validation.validate({key: value}, schema)
        return _unavailable(req, server_id, value['type'], what)
    handler.__name__ = handler.__qualname__ = what
    handler.__doc__ = ('{"%s": {"type"}} before 2.6: 400 "Unavailable '
                       'console type" (no console proxy here).' % key)
    return server_actions.action(key)(handler)


get_vnc_console = _legacy('os-getVNCConsole', ['novnc', 'xvpvnc'],
                          'get_vnc_console')
get_spice_console = _legacy('os-getSPICEConsole', ['spice-html5'],
                            'get_spice_console')
get_rdp_console = _legacy('os-getRDPConsole', ['rdp-html5'],
                          'get_rdp_console')
get_serial_console = _legacy('os-getSerialConsole', ['serial'],
                             'get_serial_console')


def create_remote_console(req, server_id):
    """POST /servers/{id}/remote-consoles (2.6): 400 "Unavailable console
    type" once the body and the server check out (400, 403, 404, 409)."""
    if not req.at_least(2, 6):
        raise exception.NotFound('The resource could not be found.')
    instance = servers.get_instance(req, server_id,
                                    rule=rules.REMOTE_CONSOLES)
    body = req.json_body()
    validation.validate(body, schemas.remote_console(req.api_version))
    console = body['remote_console']
    if console['type'] not in schemas.PROTOCOL_TYPES[console['protocol']]:
        raise exception.Invalid('Invalid console type %s for protocol %s.'
                                % (console['type'], console['protocol']))
    _host_of(req, instance, 'get_%s_console' % console['protocol'])
    raise exception.Invalid('Unavailable console type %s.'
                            % console['type'])


def register(router):
    router.add('POST', '/v2.1/servers/{server_id}/remote-consoles',
               create_remote_console)

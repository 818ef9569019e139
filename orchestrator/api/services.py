"""``/v2.1/os-services`` (admins): the daemons and their heartbeats.

A service is ``up`` while its last heartbeat is younger than ``[DEFAULT]
service_down_time_s`` and it is not forced down. Filters: ``binary``,
``host``. ``forced_down`` from 2.11.

Updates change a compute service only (Nova's rule): disabled, the
scheduler no longer picks the host but its guests keep running; forced
down, it is down at once (evacuation is then allowed) whatever its
heartbeats. Before 2.53 they are ``PUT /os-services/{enable, disable,
disable-log-reason, force-down (2.11)}`` naming the service by host and
binary, and ids are integers; from 2.53 ids are uuids and ``PUT
/os-services/{uuid}`` takes ``status``, ``disabled_reason`` and
``forced_down``. ``DELETE /os-services/{id}`` removes a service (a
compute one with its node), refused with 409 while the host holds an
instance, an allocation or an unfinished migration.
"""


from orchestrator import exception
from orchestrator.api import query
from orchestrator.api import request as api_request
from orchestrator.api import validation
from orchestrator.api.schemas import services as schemas
from orchestrator.api.views import timestamps
from orchestrator.db import hosts as db_hosts
from orchestrator.policies import infrastructure
from orchestrator.scheduler import host_selection

#: Legacy update actions (before 2.53) -> the least microversion.
_LEGACY_ACTIONS = {'enable': (2, 1), 'disable': (2, 1),
                   'disable-log-reason': (2, 1), 'force-down': (2, 11)}


def service_id(req, service):
    """The id clients see: the uuid from 2.53, the integer before."""
    return service['uuid'] if req.at_least(2, 53) else service['id']


def _body(req, service):
    up = db_hosts.is_up(service, req.conf.service_down_time_s)
    body = {
        'id': service_id(req, service),
        'binary': service['binary'],
        'host': service['host'],
        'zone': service['zone'],
        'status': 'disabled' if service['disabled'] else 'enabled',
        'state': 'up' if up else 'down',
        'updated_at': timestamps.iso(service.get('last_seen_at')
                                     or service.get('updated_at')),
        'disabled_reason': service['disabled_reason'],
    }
    if req.at_least(2, 11):
        body['forced_down'] = bool(service['forced_down'])
    return body


#: Nova's name of a binary, as a filter may give it -> ours.
NOVA_BINARIES = {'nova-compute': host_selection.COMPUTE_BINARY,
                 'nova-conductor': 'orchestrator-conductor'}


def index(req):
    """GET /os-services (200; 403 for non-admins).

    NOTE(api): the ``binary`` filter takes Nova's names too
    (``nova-compute``): clients written for Nova (tempest's aggregate
    tests) find the compute hosts by it; the services keep our names.
    """
    req.authorize(infrastructure.SERVICES_LIST)
    binary = query.one(req, 'binary')
    services = db_hosts.list_services(
        binary=NOVA_BINARIES.get(binary, binary),
        host=query.one(req, 'host'))
    return api_request.json_response(
        {'services': [_body(req, s) for s in services]})


def _lookup(req, service_id_text):
    """The service a path id names, in the microversion's id kind.

    :raises Invalid: a malformed id (400).
    :raises NotFound: no such service (404).
    """
    if req.at_least(2, 53):
        if not validation.is_uuid(service_id_text):
            raise exception.Invalid('Invalid uuid %s' % service_id_text)
        return db_hosts.get_service(service_uuid=service_id_text)
    number = query.db_integer(service_id_text)
    if number is None:
        raise exception.Invalid('Invalid service id %s: an integer is '
                                'expected.' % service_id_text)
    return db_hosts.get_service(service_id=number)


def _only_compute(binary):
    if binary != host_selection.COMPUTE_BINARY:
        raise exception.Invalid(
            'Updating a %s service is not supported. Only %s services '
            'can be updated.' % (binary, host_selection.COMPUTE_BINARY))


def _update_v253(req, service_id_text):
    if not validation.is_uuid(service_id_text):
        raise exception.Invalid('Invalid uuid %s' % service_id_text)
    body = req.json_body()
    validation.validate(body, schemas.update_v253)
    status = body.get('status')
    if 'disabled_reason' in body and status != 'disabled':
        raise exception.Invalid("Specifying 'disabled_reason' with status "
                                "other than 'disabled' is not supported.")
    if status is None and 'forced_down' not in body:
        raise exception.Invalid("At least one of 'status' or 'forced_down' "
                                "must be specified.")
    service = db_hosts.get_service(service_uuid=service_id_text)
    _only_compute(service['binary'])
    values = {}
    if status is not None:
        values['disabled'] = status == 'disabled'
        if status == 'disabled':
            values['disabled_reason'] = body.get('disabled_reason')
    if 'forced_down' in body:
        values['forced_down'] = body['forced_down']
    service = db_hosts.update_service(service['id'], values)
    return api_request.json_response({'service': _body(req, service)})


def _legacy_values(action, body):
    """(values to set, the response's extra fields) of a legacy update."""
    if action == 'enable':
        return {'disabled': False}, {'status': 'enabled'}
    if action == 'disable':
        return {'disabled': True}, {'status': 'disabled'}
    if action == 'disable-log-reason':
        reason = body.get('disabled_reason')
        if not reason:
            raise exception.Invalid('Missing disabled reason field')
        return ({'disabled': True, 'disabled_reason': reason},
                {'status': 'disabled', 'disabled_reason': reason})
    if 'forced_down' not in body:
        raise exception.Invalid('Missing forced_down field')
    return ({'forced_down': body['forced_down']},
            {'forced_down': body['forced_down']})


def _update_legacy(req, action):
    least = _LEGACY_ACTIONS.get(action)
    if least is None or not req.at_least(*least):
        raise exception.NotFound('Unknown action')
    body = req.json_body()
    validation.validate(body, schemas.update_v211 if req.at_least(2, 11)
                        else schemas.update)
    host, binary = body['host'], body['binary']
    values, shown = _legacy_values(action, body)
    _only_compute(binary)
    found = db_hosts.list_services(binary=binary, host=host)
    if not found:
        raise exception.NotFound('Compute host %s with binary %s could not '
                                 'be found.' % (host, binary))
    db_hosts.update_service(found[0]['id'], values)
    return api_request.json_response(
        {'service': dict({'host': host, 'binary': binary}, **shown)})


def update(req, service_id):
    """PUT /os-services/{service_id} (200; 400, 403, 404).

    ``service_id`` is a uuid from 2.53, a legacy action's name before.
    """
    req.authorize(infrastructure.SERVICES_UPDATE)
    if req.at_least(2, 53):
        return _update_v253(req, service_id)
    return _update_legacy(req, service_id)


def delete(req, service_id):
    """DELETE /os-services/{service_id} (204; 400, 403, 404, 409)."""
    req.authorize(infrastructure.SERVICES_DELETE)
    service = _lookup(req, service_id)
    db_hosts.delete_service(service['id'], host_selection.COMPUTE_BINARY)
    return api_request.empty_response(204)


def register(router):
    router.add('GET', '/v2.1/os-services', index)
    router.add('PUT', '/v2.1/os-services/{service_id}', update)
    router.add('DELETE', '/v2.1/os-services/{service_id}', delete)

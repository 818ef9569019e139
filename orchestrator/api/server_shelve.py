"""``shelve``, ``shelveOffload`` and ``unshelve`` server actions (202), as
Nova's ``os-shelve``; each runs a flow (:mod:`flows.shelve`,
:mod:`flows.shelve_offload`, :mod:`flows.unshelve`,
:mod:`flows.unshelve_on_host`).

* ``{"shelve": null}`` (or ``{}``): from active, stopped, paused or
  suspended. The image the guest's disk goes to is created here
  (queued, ``<name>-shelved``, private to the server's project), as
  createImage's; with ``[DEFAULT] shelved_offload_time`` 0 the flow
  offloads the server at once.
* ``{"shelveOffload": null}`` (administrators by default, as in Nova):
  from shelved.
* ``{"unshelve": null}``: from shelved (the guest powered on, action
  ``unshelve_on_host``, shown as Nova's ``unshelve``) or shelved_offloaded
  (scheduled and spawned from the shelved image). From 2.77
  ``{"unshelve": {"availability_zone": "az"}}`` asks for a zone: 400 when
  no compute host is in it, 409 when the server is not offloaded (it
  still has a host), as in Nova.

Any other state is a 409 from the claim.
"""

from orchestrator import exception
from orchestrator import states
from orchestrator import state_machine
from orchestrator.api import availability_zones
from orchestrator.api import request as api_request
from orchestrator.api import server_actions
from orchestrator.api import servers
from orchestrator.api import validation
from orchestrator.api.schemas import server_actions as action_schemas
from orchestrator.db import catalog
from orchestrator.db import instances as db_instances

from flows.tasks import shelve as shelve_steps


@server_actions.action('shelve')
def shelve(req, server_id, value):
    """{"shelve": null} (202)."""
    server_actions.check_no_arguments('shelve', value)
    instance, act = server_actions.claim_action(req, server_id,
                                                state_machine.SHELVE)
    image = catalog.image_create(
        '%s-shelved' % (instance['display_name'] or instance['uuid']),
        status='queued', owner=instance['project_id'],
        properties={'image_type': 'snapshot',
                    'instance_uuid': instance['uuid'],
                    'base_image_ref': instance['image_ref'] or ''})
    params = {shelve_steps.IMAGE_ID: image['id'],
              shelve_steps.OFFLOAD: req.conf.shelved_offload_time == 0}
    try:
        server_actions.start_action(req, instance, act,
                                    state_machine.SHELVE, params)
    except exception.ServiceUnavailable:
        catalog.image_delete(image['id'])
        raise
    return api_request.empty_response(202)


@server_actions.action('shelveOffload')
def shelve_offload(req, server_id, value):
    """{"shelveOffload": null} (202)."""
    server_actions.check_no_arguments('shelveOffload', value)
    return server_actions.claim_and_start(req, server_id,
                                          state_machine.SHELVE_OFFLOAD)


def _requested_zone(req, value):
    """The zone a 2.77+ unshelve asks for, or None (400 for a body the
    microversion does not take or a zone with no compute host)."""
    if not req.at_least(2, 77):
        server_actions.check_no_arguments('unshelve', value)
        return None
    validation.validate({'unshelve': value}, action_schemas.UNSHELVE_V277)
    zone = (value or {}).get('availability_zone')
    if zone is not None and zone not in availability_zones.compute_zones():
        raise exception.Invalid('The requested availability zone is not '
                                'available: %s' % zone)
    return zone


@server_actions.action('unshelve')
def unshelve(req, server_id, value):
    """{"unshelve": null | {"availability_zone"} (2.77)} (202)."""
    zone = _requested_zone(req, value)
    instance = servers.get_instance(req, server_id)
    if instance['vm_state'] == states.SHELVED:
        if zone is not None:
            raise exception.InstanceInvalidState(
                reason='The availability_zone parameter may only be given '
                       'to unshelve a server in vm_state '
                       'shelved_offloaded; it is shelved (still on its '
                       'host).')
        name = state_machine.UNSHELVE_ON_HOST
    else:
        # Any other state is refused by the claim, naming 'unshelve'.
        name = state_machine.UNSHELVE

    def move(s, claimed, _check):
        # Read in the claim's transaction: the image of the shelve that
        # put the server where the claim found it.
        if shelve_steps.shelved_image_id(claimed) is None:
            raise exception.InstanceInvalidState(
                reason='Server %s has no shelved image to unshelve from.'
                       % server_id)
        if zone is not None:
            db_instances.set_availability_zone_in(s, claimed['uuid'], zone)
    claimed, act = server_actions.claim_action(req, server_id, name,
                                               within=move)
    server_actions.start_action(req, claimed, act, name, {
        shelve_steps.IMAGE_ID: shelve_steps.shelved_image_id(claimed)})
    return api_request.empty_response(202)

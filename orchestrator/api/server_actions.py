"""``POST /v2.1/servers/{id}/action``: one action per request, dispatched
by name through :data:`HANDLERS`.

An action is added by writing ``handler(req, server_id, value)`` and
decorating it with :func:`action`; the name is the body's single key, as
in Nova (``{"forceDelete": null}``). Before the handler runs, the server
is looked up (404 when the caller may not find it) and the action's
policy rule (:mod:`orchestrator.policies.server_actions`, whose defaults
follow the admin-only column of :data:`orchestrator.state_machine.ACTIONS`)
is checked against the server's project (403). Any other name is a 400
"Unsupported action", including actions the state machine knows but the
API does not offer yet.
"""

import secrets
import string
import uuid as uuidlib

from orchestrator import exception
from orchestrator import quota
from orchestrator import secret_box
from orchestrator import state_machine
from orchestrator import states
from orchestrator.api import flavors
from orchestrator.api import links
from orchestrator.api import operations
from orchestrator.api import request as api_request
from orchestrator.api import server_create
from orchestrator.api import servers
from orchestrator.api import validation
from orchestrator.api.schemas import server_actions as action_schemas
from orchestrator.api.views import servers as server_views
from orchestrator.db import actions as db_actions
from orchestrator.db import catalog
from orchestrator.db import hosts as db_hosts
from orchestrator.db import instances as db_instances
from orchestrator.db import migration_records
from orchestrator.policies import server_actions as action_rules

from flows import keys
from flows.tasks import shelve as shelve_steps

#: action name -> handler(req, server_id, value) -> webob.Response
HANDLERS = {}


def action(name):
    """Register the decorated function as the handler of ``name``."""
    def register(handler):
        HANDLERS[name] = handler
        return handler
    return register


@action(state_machine.FORCE_DELETE)
def force_delete(req, server_id, value):
    """Delete now, preempting whatever runs (202).

    The database delete always succeeds while the database is up; the
    host-side cleanup is posted if the server had a host, and left to
    reconciliation if no conductor answers.
    """
    ctxt = req.context
    before, act = db_instances.force_delete(
        server_id, {'request_id': ctxt.request_id, 'user_id': ctxt.user_id,
                    'project_id': ctxt.project_id},
        project_id=req.owner_project())
    if before.get('host'):
        operations.cleanup_after_force_delete(ctxt, server_id,
                                              before['host'], act['id'])
    # The image of a shelved server goes with it, as in Nova: a write
    # after the delete; a crash in between leaves it named in the deleted
    # instance's system_metadata, where the conductor's periodic
    # (shelved_offload.forget_images_of_deleted) finds and deletes it.
    shelve_steps.forget_shelved_image(before)
    return api_request.empty_response(202)


def check_no_arguments(key, value):
    """400 unless the value of action ``key`` is null or ``{}``: Nova
    takes both, and tempest and several SDKs send ``{}``."""
    if value is not None and value != {}:
        raise exception.Invalid('%s takes no arguments (null or {})' % key)


def claim_action(req, server_id, name, quota=None, within=None):
    """Claim the server for action ``name``; 409 when the table forbids it
    now. Returns (instance, action). ``quota`` and ``within``: see
    :func:`orchestrator.db.instances.claim`.

    Public: every handler of a flow-backed action (here and in
    :mod:`orchestrator.api.server_shelve`,
    :mod:`orchestrator.api.server_actions_admin`) claims with it, then
    does its own checks or writes and calls :func:`start_action` (or
    uses :func:`claim_and_start` when it has none)."""
    ctxt = req.context
    return db_instances.claim(
        server_id, name, {'request_id': ctxt.request_id,
                          'user_id': ctxt.user_id,
                          'project_id': ctxt.project_id},
        project_id=req.owner_project(), quota=quota, within=within)


def start_action(req, instance, act, name, params=None):
    """Have a conductor run the flow of ``name`` on the server claimed by
    :func:`claim_action` (503, claim given back, when none answers);
    ``params`` go into the flow's store."""
    operations.start(req.context, 'start_action', instance, act,
                     operation=name, params=params)


def claim_and_start(req, server_id, name, params=None):
    """Claim the server for action ``name`` (409 when the table forbids it
    now) and have a conductor run its flow (202, no body)."""
    instance, act = claim_action(req, server_id, name)
    start_action(req, instance, act, name, params)
    return api_request.empty_response(202)


def _claimed_action(key, name):
    """A handler for body key ``key`` that claims the server for action
    ``name`` (409 when the table forbids it now) and has a conductor run
    its flow (202)."""

    def handler(req, server_id, value):
        check_no_arguments(key, value)
        return claim_and_start(req, server_id, name)

    return handler


#: Request body key -> action name, for the single-host power actions.
POWER_ACTIONS = {
    'os-stop': state_machine.STOP,
    'os-start': state_machine.START,
    'pause': state_machine.PAUSE,
    'unpause': state_machine.UNPAUSE,
    'suspend': state_machine.SUSPEND,
    'resume': state_machine.RESUME,
}
for _key, _name in POWER_ACTIONS.items():
    action(_key)(_claimed_action(_key, _name))


@action('reboot')
def reboot(req, server_id, value):
    """{"reboot": {"type": "SOFT" | "HARD"}} (202). A soft reboot that
    does not finish in time becomes hard; a hard reboot may preempt a
    soft one that runs."""
    reboot_type = value.get('type') if isinstance(value, dict) else None
    if not isinstance(reboot_type, str) or reboot_type.upper() not in (
            'SOFT', 'HARD'):
        raise exception.ValidationError(
            field='reboot.type', reason='must be "SOFT" or "HARD"')
    name = (state_machine.REBOOT_HARD if reboot_type.upper() == 'HARD'
            else state_machine.REBOOT_SOFT)
    return claim_and_start(req, server_id, name)


@action('os-resetState')
def reset_state(req, server_id, value):
    """{"os-resetState": {"state": "active" | "error"}} (admin, 202):
    vm_state set at once, task_state cleared, whatever ran preempted;
    audited as action resetState."""
    state = value.get('state') if isinstance(value, dict) else None
    if state not in ('active', 'error'):
        raise exception.ValidationError(
            field='os-resetState.state', reason='must be "active" or "error"')
    ctxt = req.context
    db_instances.reset_state(server_id, state, {
        'request_id': ctxt.request_id, 'user_id': ctxt.user_id,
        'project_id': ctxt.project_id})
    return api_request.empty_response(202)


#: Request body keys whose action name differs from the key.
ACTION_NAMES = dict(POWER_ACTIONS, **{
    'os-resetState': state_machine.RESET_STATE})


@action('restore')
def restore(req, server_id, value):
    """{"restore": null} (202): a soft-deleted server comes back, if one
    more server of its flavor fits its project's quota (403 otherwise)."""
    check_no_arguments('restore', value)
    instance = servers.get_instance(req, server_id)

    def fits(_session, claimed, check):
        # NOTE(quota): a soft-deleted server does not count (as in
        # Nova); restoring it asks for a whole server again.
        check.counted(quota.boot_deltas(claimed), exclude=claimed['uuid'])
    claimed, act = claim_action(
        req, server_id, state_machine.RESTORE,
        quota=quota.for_project(req.conf, instance['project_id']),
        within=fits)
    start_action(req, claimed, act, state_machine.RESTORE)
    return api_request.empty_response(202)


@action('unrescue')
def unrescue(req, server_id, value):
    """{"unrescue": null} (202): the guest boots from its own disk."""
    check_no_arguments('unrescue', value)
    return claim_and_start(req, server_id, state_machine.UNRESCUE)


@action('rescue')
def rescue(req, server_id, value):
    """{"rescue": {"adminPass"?, "rescue_image_ref"?} | null} (200,
    {"adminPass": ...}): the guest boots from a rescue image (the given
    one, else its own image) with the password given or a generated one.
    The flow gets the password sealed (:mod:`orchestrator.secret_box`).
    """
    validation.validate({'rescue': value}, action_schemas.RESCUE)
    value = value or {}
    image_ref = value.get('rescue_image_ref')
    if image_ref:
        image_ref = server_create.active_image(req, image_ref)['id']
    password = value.get('adminPass') or generate_password()
    claim_and_start(req, server_id, state_machine.RESCUE, {
        keys.SEALED_ADMIN_PASSWORD: secret_box.seal_for_request(
            password, req.conf),
        'rescue_image_ref': image_ref})
    return api_request.json_response({'adminPass': password})


@action('rebuild')
def rebuild(req, server_id, value):
    """{"rebuild": {"imageRef", "name"?, "adminPass"?, ...}} (202 with the
    server, status REBUILD): the guest re-imaged on its host."""
    validation.validate({'rebuild': value},
                        action_schemas.rebuild(req.api_version))
    server_create.check_no_trusted_certs(value)
    image = server_create.active_image(req, value['imageRef'])
    instance = servers.get_instance(req, server_id)
    server_create.check_image_fits(image, instance['flavor'] or instance)
    params = {'image_ref': image['id']}
    if value.get('name'):
        params['name'] = value['name']
    # NOTE(api): 2.54 and 2.57: a key pair or user data given (null
    # removes it) replaces the server's when the rebuild finishes; the
    # user data travels sealed, as a password does.
    shown = {f: value[f] for f in ('key_name', 'user_data') if f in value}
    if shown.get('key_name') is not None:
        server_create.check_key_and_networks(
            req, {'key_name': shown['key_name']})
    if 'key_name' in shown:
        params['key_name'] = shown['key_name']
    if shown.get('user_data') is not None:
        params[keys.SEALED_USER_DATA] = secret_box.seal_for_request(
            shown['user_data'], req.conf)
    elif 'user_data' in shown:
        params['user_data'] = None
    instance, act = claim_action(req, server_id, state_machine.REBUILD)
    start_action(req, instance, act, state_machine.REBUILD, params)
    # The response shows the server as the rebuild makes it (Nova saves
    # the new image and name before the rebuild runs): the new image and
    # name, not the ones the guest still has.
    shown.update(image_ref=image['id'])
    if 'name' in params:
        shown['display_name'] = params['name']
    body = server_views.ServerViewBuilder(req).rebuild(
        dict(instance, **shown))
    body['adminPass'] = value.get('adminPass') or generate_password()
    return api_request.json_response({'server': body}, status=202)


def _image_of_server(req, server_id, action_name, image_name, metadata,
                     defaults=None, forced=None, params=None):
    """Claim the server for ``action_name`` (createImage, createBackup),
    create its image (queued, private to the server's project) and start
    the flow that fills it (503, image deleted and claim given back, when
    no conductor answers). Returns the image.

    Its properties: ``defaults``, the request's ``metadata`` over them,
    ``forced`` over those, and always the server it comes from (a dropped
    request's queued image is found by it).
    """
    instance, act = claim_action(req, server_id, action_name)
    image_properties = dict(defaults or {})
    image_properties.update(metadata or {})
    image_properties.update(forced or {})
    image_properties.update({'instance_uuid': instance['uuid'],
                             'base_image_ref': instance['image_ref'] or ''})
    image = catalog.image_create(image_name, status='queued',
                                 owner=instance['project_id'],
                                 properties=image_properties)
    try:
        start_action(req, instance, act, action_name,
                     dict(params or {}, image_id=image['id']))
    except exception.ServiceUnavailable:
        catalog.image_delete(image['id'])
        raise
    return image


def _image_response(req, image, with_location=True):
    """202: 2.45+ body {"image_id"}; before, the image's URL in the
    Location header (``with_location``)."""
    location = links.base_url(req) + '/image/v2/images/' + image['id']
    if req.at_least(2, 45):
        return api_request.json_response({'image_id': image['id']},
                                         status=202,
                                         headers={'Location': location})
    response = api_request.empty_response(202)
    if with_location:
        response.headers['Location'] = location
    return response


@action('createImage')
def create_image(req, server_id, value):
    """{"createImage": {"name", "metadata"?}} (202): the server's disk
    becomes a new private image, queued at once and active when the
    snapshot is uploaded. 2.45+: body {"image_id"}; before: the image's
    URL in the Location header."""
    validation.validate({'createImage': value}, action_schemas.CREATE_IMAGE)
    # The request's metadata may set image_type, as in Nova (tempest's
    # test_create_delete_image does).
    image = _image_of_server(req, server_id, state_machine.SNAPSHOT,
                             value['name'], value.get('metadata'),
                             defaults={'image_type': 'snapshot'})
    return _image_response(req, image)


@action('createBackup')
def create_backup(req, server_id, value):
    """{"createBackup": {"name", "backup_type", "rotation", "metadata"?}}
    (202): a snapshot whose image says it is a backup of this server and
    type (image_type=backup, backup_type, instance_uuid); once it is
    active, the server's backups of that type beyond the newest
    ``rotation`` are deleted (0: all of them, the new one included, as
    in Nova). Response as createImage's, except that before 2.45 a
    rotation of 0 gives no Location (the image will not stay)."""
    validation.validate({'createBackup': value},
                        action_schemas.CREATE_BACKUP)
    rotation = int(value['rotation'])
    # What the rotation selects by is not the request's metadata's to
    # change: a backup never leaves its type's rotation, nor an image
    # joins one it is not of.
    image = _image_of_server(
        req, server_id, state_machine.BACKUP, value['name'],
        value.get('metadata'),
        forced={'image_type': 'backup', 'backup_type': value['backup_type']},
        params={'backup_type': value['backup_type'], 'rotation': rotation})
    return _image_response(req, image, with_location=rotation > 0)


@action('changePassword')
def change_password(req, server_id, value):
    """{"changePassword": {"adminPass"}} (202): the guest's administrator
    password set through its agent. The flow gets the password sealed
    (:mod:`orchestrator.secret_box`); it is never echoed."""
    validation.validate({'changePassword': value},
                        action_schemas.CHANGE_PASSWORD)
    return claim_and_start(req, server_id, state_machine.CHANGE_PASSWORD, {
        keys.SEALED_ADMIN_PASSWORD: secret_box.seal_for_request(
            value['adminPass'], req.conf)})


@action('trigger_crash_dump')
def trigger_crash_dump(req, server_id, value):
    """{"trigger_crash_dump": null} (2.17+, 202): an NMI to the guest,
    which dumps its memory. 409 when the guest is not running (nor
    paused) as last reported."""
    check_no_arguments('trigger_crash_dump', value)
    instance = servers.get_instance(req, server_id)
    if instance['power_state'] not in (states.RUNNING, states.POWER_PAUSED):
        raise exception.GuestNotRunning(
            instance_uuid=instance['uuid'],
            power_state=states.POWER_STATE_NAMES.get(
                instance['power_state'], instance['power_state']))
    return claim_and_start(req, server_id, state_machine.TRIGGER_CRASH_DUMP)


#: Actions offered from a microversion on: body key -> (major, minor).
#: Asked for below it, an action is unknown (400, as any other name).
MIN_VERSIONS = {'trigger_crash_dump': (2, 17)}


def generate_password(length=12):
    """A random password of letters and digits (Nova's default length)."""
    alphabet = string.ascii_letters + string.digits
    return ''.join(secrets.choice(alphabet) for _ in range(length))


def dispatch(req, server_id):
    """POST /servers/{id}/action."""
    body = req.json_body()
    if not isinstance(body, dict) or len(body) != 1:
        raise exception.Invalid('An action request is a JSON object with '
                                'exactly one key, the action name.')
    name, value = next(iter(body.items()))
    handler = HANDLERS.get(name)
    if handler is not None and name in MIN_VERSIONS and not req.at_least(
            *MIN_VERSIONS[name]):
        handler = None
    if handler is None:
        raise exception.Invalid('Unsupported action: %s' % name)
    instance = servers.get_instance(req, server_id, read_deleted=False,
                                    rule=action_rules.rule_for(name))
    if name not in action_rules.FLAG_ACTIONS and \
            name not in action_rules.READ_ACTIONS:
        servers.check_unlocked(req, instance)
    return handler(req, server_id, value)


def register(router):
    router.add('POST', '/v2.1/servers/{server_id}/action', dispatch)


# -- resize and cold migration ---------------------------------------------

def _start_migration(req, server_id, name, migration_type, new_flavor,
                     requested_host=None):
    """Claim the server for ``name`` and record its migration
    (pre-migrating) in the claim's transaction, under its project's
    quota: from this request until it is confirmed or reverted, a resize
    counts the larger of the two flavors (403, nothing claimed, when the
    growth does not fit). Then start the flow; on 503 the migration is
    error (the claim is given back by the start)."""
    project_id = servers.get_instance(req, server_id)['project_id']
    migration_uuid = str(uuidlib.uuid4())

    def record(s, instance, check):
        check.counted(quota.upsize_deltas(instance['flavor'], new_flavor))
        migration_records.create_in(
            s, instance['uuid'], migration_type,
            states.MIGRATION_PRE_MIGRATING, instance['host'],
            old_flavor=instance['flavor'], new_flavor=new_flavor,
            project_id=project_id, user_id=req.context.user_id,
            migration_uuid=migration_uuid)
    instance, act = claim_action(req, server_id, name,
                                 quota=quota.for_project(req.conf,
                                                         project_id),
                                 within=record)
    params = {'migration_uuid': migration_uuid,
              'migration_type': migration_type,
              'new_flavor': new_flavor}
    if requested_host:
        params['requested_host'] = requested_host
    try:
        start_action(req, instance, act, name, params)
    except exception.ServiceUnavailable:
        migration_records.set_status(
            migration_uuid, states.MIGRATION_ERROR,
            from_statuses={states.MIGRATION_PRE_MIGRATING})
        raise
    return api_request.empty_response(202)


@action('resize')
def resize(req, server_id, value):
    """{"resize": {"flavorRef"}} (202): the server moves to a host with
    room for the new flavor and waits in VERIFY_RESIZE for confirm or
    revert."""
    validation.validate({'resize': value}, action_schemas.RESIZE)
    flavor_ref = str(value['flavorRef']).rstrip('/').rsplit('/', 1)[-1]
    try:
        flavor = catalog.flavor_get(flavor_ref,
                                    visible_to=flavors.visible_to(req))
    except exception.FlavorNotFound:
        raise exception.Invalid('Unable to find flavor %s.'
                                % flavor_ref) from None
    instance = servers.get_instance(req, server_id)
    if flavor['flavorid'] == (instance['flavor'] or {}).get('flavorid'):
        raise exception.Invalid('When resizing, instances must change '
                                'flavor!')
    if (instance['flavor'] or {}).get('root_gb', 0) > flavor['root_gb']:
        raise exception.Invalid('Resizing to a flavor with a smaller disk '
                                'is not allowed.')
    return _start_migration(req, server_id, state_machine.RESIZE, 'resize',
                            server_create.flavor_snapshot(flavor))


@action('migrate')
def migrate(req, server_id, value):
    """{"migrate": null} or from 2.56 {"migrate": {"host"}} (admin, 202):
    a cold migration with the same flavor to another host (the one
    named, if any, which the scheduler's filters still check). 400 when
    the host is unknown or the server's own."""
    validation.validate({'migrate': value},
                        action_schemas.migrate(req.api_version))
    host = (value or {}).get('host')
    if host and not any(n['host'] == host
                        for n in db_hosts.list_compute_nodes()):
        raise exception.Invalid('Compute host %s could not be found.'
                                % host)
    instance = servers.get_instance(req, server_id)
    if host and host == instance['host']:
        raise exception.Invalid('Unable to migrate instance (%s) to '
                                'current host (%s).' % (server_id, host))
    return _start_migration(req, server_id, state_machine.MIGRATE,
                            'migration', instance['flavor'], host)


def _finished_migration(req, server_id, name):
    """Claim the server for confirm/revert ``name`` and find the
    migration waiting for it; 400 (claim given back) if there is none."""
    instance, act = claim_action(req, server_id, name)
    waiting = migration_records.list_(
        instance_uuid=instance['uuid'],
        statuses=[states.MIGRATION_FINISHED])
    if not waiting:
        db_instances.release_claim(instance['uuid'], instance['task_id'])
        db_actions.finish(act['id'], states.RESULT_ERROR,
                          message='no migration waiting')
        raise exception.Invalid('Instance %s has no resize or migration '
                                'waiting for %s.' % (server_id, name))
    return instance, act, waiting[0]


@action('confirmResize')
def confirm_resize(req, server_id, value):
    """{"confirmResize": null} (204): the source's guest and claim go."""
    check_no_arguments('confirmResize', value)
    instance, act, migration = _finished_migration(
        req, server_id, state_machine.CONFIRM_RESIZE)
    start_action(req, instance, act, state_machine.CONFIRM_RESIZE,
           {'migration_uuid': migration['uuid']})
    return api_request.empty_response(204)


@action('revertResize')
def revert_resize(req, server_id, value):
    """{"revertResize": null} (202): back to the source, old flavor."""
    check_no_arguments('revertResize', value)
    instance, act, migration = _finished_migration(
        req, server_id, state_machine.REVERT_RESIZE)
    start_action(req, instance, act, state_machine.REVERT_RESIZE,
           {'migration_uuid': migration['uuid']})
    return api_request.empty_response(202)

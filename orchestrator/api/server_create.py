"""``POST /v2.1/servers``: validate, insert the instance, post the build.

The request is checked against :mod:`orchestrator.api.schemas.servers`,
then against the catalog (the flavor exists and is enabled, the image
exists, is active and fits the flavor). The instance is inserted in
(building, scheduling) with a snapshot of its flavor and its 'create'
action, and a conductor is asked to post the boot flow; if none answers,
the instance goes to ERROR with a fault and the client gets a 503 (see
:mod:`orchestrator.api.operations`).

``min_count``/``max_count`` ask for several servers of one reservation
(:mod:`orchestrator.api.server_count`): they are inserted together, each
with its action and pending request, in one transaction
(:mod:`orchestrator.db.boot_requests`), and each gets its own boot flow.
The response is the first server's, or ``{"reservation_id": ...}`` with
``return_reservation_id``.

The project's quota is checked in the insert's transaction (403 with
Nova's message, nothing inserted, when fewer than ``min_count`` servers
of the flavor, or its metadata items, would fit; see
:mod:`orchestrator.db.quotas`).

``availability_zone`` places the server in that zone. Nova's legacy
``"zone:host"`` (and ``"zone:host:node"``, ``":host"``) form asks for a
host as well, for administrators only (403 otherwise): the instance keeps
the zone, the boot flow gets the host as ``params['requested_host']``. A
zone or host that no host can serve ends the build in ERROR with a 'No
valid host' fault. From 2.74 ``host`` and ``hypervisor_hostname`` ask for
a host the same way (administrators only, the scheduler's filters still
checking it), checked to exist first (400).

From 2.52 ``tags`` are inserted with the instance. 2.63's
``trusted_image_certificates`` is refused (400): image signatures are not
verified here.
"""

import ipaddress
import re
import secrets
import string
import uuid as uuidlib

from orchestrator import exception
from orchestrator import quota
from orchestrator import states
from orchestrator.api import flavors
from orchestrator.api import images
from orchestrator.api import links
from orchestrator.api import operations
from orchestrator.api import request as api_request
from orchestrator.api import server_count
from orchestrator.api import server_groups
from orchestrator.api import validation
from orchestrator.api.schemas import servers as schemas
from orchestrator.db import actions as db_actions
from orchestrator.db import allocations
from orchestrator.db import boot_requests
from orchestrator.db import hosts as db_hosts
from orchestrator.db import instances as db_instances
from orchestrator.db import keypairs as db_keypairs
from orchestrator.db import pending_requests
from orchestrator.policies import servers as server_rules
from orchestrator.scheduler import host_selection

GiB = 1024 ** 3

#: The networks a server may ask for by uuid: the hosts have one, the
#: fake driver's "private" (no network service to ask; no ports either).
NETWORKS = {'3b8a5b4e-6f1d-4b2a-9c6e-0d7f2e1a5c90': 'private'}
_TRUE = ('true', '1', 'yes', 'on')


def _last_segment(ref):
    return str(ref).strip().rstrip('/').rsplit('/', 1)[-1]


def _as_bool(value):
    return value is True or str(value).lower() in _TRUE


def _image_id(server):
    """The image to boot, from imageRef or an image->local mapping."""
    image_ref = _last_segment(server.get('imageRef') or '')
    for bdm in server.get('block_device_mapping_v2', []):
        if bdm.get('volume_type') and \
                bdm.get('destination_type') != 'volume':
            raise exception.Invalid('Specifying a volume_type with '
                                    'destination_type=local is not '
                                    'supported.')
        if (bdm.get('destination_type') == 'volume'
                or bdm.get('source_type') in ('volume', 'snapshot')):
            raise exception.Invalid('Block device mappings to volumes or '
                                    'from snapshots are not supported: '
                                    'there is no volume service.')
        if bdm.get('source_type') == 'image':
            bdm_image = _last_segment(bdm.get('uuid') or '')
            if image_ref and bdm_image != image_ref:
                raise exception.Invalid(
                    'The image of block_device_mapping_v2 (%s) differs from '
                    'imageRef (%s).' % (bdm_image, image_ref))
            image_ref = bdm_image
    if not image_ref:
        raise exception.Invalid('imageRef is required: booting from a '
                                'volume is not supported.')
    try:
        uuidlib.UUID(image_ref)
    except ValueError:
        raise exception.Invalid('Invalid imageRef provided: %s is not an '
                                'image id.' % image_ref) from None
    return image_ref


def _flavor(req, server):
    flavor_id = _last_segment(server['flavorRef'])
    try:
        flavor = flavors.get_visible(req, flavor_id)
    except exception.FlavorNotFound:
        raise exception.FlavorNotAvailable(flavor_id=flavor_id) from None
    if flavor['disabled']:
        raise exception.Invalid('Flavor %s is disabled and cannot be used.'
                                % flavor_id)
    return flavor


def active_image(req, image_ref):
    """The active image ``image_ref`` names (an id, or a URL ending in
    one) that the caller may use; 400 when there is no such image (a
    private image of another project does not exist for the caller)."""
    image_id = _last_segment(image_ref)
    try:
        image = images.get_visible(req, image_id)
    except exception.ImageNotFound:
        raise exception.ImageNotAvailable(image_id=image_id) from None
    if image['status'] != 'active':
        raise exception.Invalid('Image %s is not active.' % image_id)
    return image


def check_image_fits(image, flavor):
    """``image`` if the flavor (a dict with memory_mb and root_gb) can run
    it; 400 with the reason when it cannot."""
    if (image.get('min_ram') or 0) > flavor['memory_mb']:
        raise exception.Invalid("Flavor's memory is too small for "
                                "requested image.")
    root_gb = flavor['root_gb']
    # NOTE(api): as Nova, a flavor with a 0 GB root disk takes the
    # image's size; any other must hold the image.
    if root_gb and ((image.get('min_disk') or 0) > root_gb
                    or (image.get('size') or 0) > root_gb * GiB):
        raise exception.Invalid("Flavor's disk is too small for requested "
                                "image.")
    return image


def flavor_snapshot(flavor):
    """What the instance keeps of its flavor (the row may change)."""
    keys = ('name', 'flavorid', 'vcpus', 'memory_mb', 'root_gb',
            'ephemeral_gb', 'swap', 'rxtx_factor', 'extra_specs')
    snapshot = {k: flavor.get(k) for k in keys}
    snapshot['extra_specs'] = snapshot['extra_specs'] or {}
    return snapshot


def hostname_for(name, uuid):
    """An RFC 952 host name from the server's name (Nova's manner)."""
    text = re.sub(r'[^a-z0-9.-]+', '-', name.lower())
    text = re.sub(r'[.-]{2,}', '-', text).strip('.-')[:63].strip('.-')
    return text or 'server-%s' % uuid


def requested_placement(req, server):
    """(availability zone or None, requested host or None) of a create
    request. The ``zone:host[:node]`` form is for administrators only:
    403 for anyone else, 400 when it names no host."""
    zone = server.get('availability_zone')
    if zone is None or ':' not in zone:
        return zone, None
    req.authorize(server_rules.CREATE_FORCED_HOST)
    parts = zone.split(':', 2)
    zone, host = parts[0], parts[1]
    node = parts[2] if len(parts) == 3 else ''
    if node and host and node != host:
        # NOTE(api): every host has one node named after it.
        raise exception.Invalid('Host %s has no node %s.' % (host, node))
    host = host or node
    if not host:
        raise exception.Invalid('availability_zone %r names no host.'
                                % server['availability_zone'])
    return zone or None, host


def requested_destination(req, server, forced_host):
    """The host a 2.74 ``host`` and/or ``hypervisor_hostname`` ask for,
    or None. Administrators only (403); 400 with the legacy
    ``zone:host`` form, for an unknown host or node, or a node that is
    not the host's (every host has one node, named after it)."""
    host = server.get('host')
    node = server.get('hypervisor_hostname')
    if host is None and node is None:
        return None
    req.authorize(server_rules.CREATE_REQUESTED_DESTINATION)
    if forced_host:
        raise exception.Invalid(
            'host or hypervisor_hostname cannot be combined with the '
            'availability_zone "zone:host:node" format.')
    known = {n['host'] for n in db_hosts.list_compute_nodes()}
    if host is not None and host not in known:
        raise exception.Invalid('Compute host %s could not be found.'
                                % host)
    if node is not None and node not in known:
        raise exception.Invalid('Compute host node %s could not be found.'
                                % node)
    if host is not None and node is not None and host != node:
        raise exception.Invalid('Compute host %s has no node %s.'
                                % (host, node))
    return host if host is not None else node


def check_no_trusted_certs(body):
    """400 when a create or rebuild (2.63) asks for trusted image
    certificates: image signatures are not verified here, so the request
    cannot be honoured (null or absent is fine)."""
    if body.get('trusted_image_certificates'):
        raise exception.Invalid(
            'trusted_image_certificates is not supported: this deployment '
            'does not verify image signatures.')


def check_key_and_networks(req, server):
    """400 as Nova when ``key_name`` names none of the caller's keypairs,
    or a requested network or port does not exist."""
    key_name = server.get('key_name')
    if key_name is not None:
        try:
            db_keypairs.get(req.context.user_id, key_name)
        except db_keypairs.KeypairNotFound:
            raise exception.Invalid('Invalid key_name provided.') from None
    requested = server.get('networks')
    for network in requested if isinstance(requested, list) else ():
        if network.get('port'):
            raise exception.Invalid('Port id %s could not be found.'
                                    % network['port'])
        if network.get('uuid') and network['uuid'] not in NETWORKS:
            raise exception.Invalid('Network %s could not be found.'
                                    % network['uuid'])


def _reservation_id():
    alphabet = string.ascii_lowercase + string.digits
    return 'r-' + ''.join(secrets.choice(alphabet) for _ in range(8))


def _values(req, server, flavor, image, zone):
    """The column values of one server of the request (its uuid, name,
    hostname and launch_index are set by :func:`_each_server`)."""
    ctxt = req.context
    access_ip_v6 = server.get('accessIPv6')
    return {
        'description': server.get('description'),
        'project_id': ctxt.project_id,
        'user_id': ctxt.user_id,
        'flavor_id': flavor['flavorid'],
        'flavor': flavor_snapshot(flavor),
        'vcpus': flavor['vcpus'],
        'memory_mb': flavor['memory_mb'],
        'root_gb': flavor['root_gb'],
        'ephemeral_gb': flavor['ephemeral_gb'],
        'image_ref': image['id'],
        'availability_zone': zone,
        'key_name': server.get('key_name'),
        'user_data': server.get('user_data'),
        'metadata': server.get('metadata') or {},
        # NOTE(api): what was asked for; the boot flow replaces it with
        # the network info the host reports.
        'networks': {'requested': server.get('networks', 'auto')},
        'access_ip_v4': server.get('accessIPv4'),
        # NOTE(api): stored in its canonical form, as Nova's IPAddress
        # field keeps it ('2001:DB8:0::1' -> '2001:db8::1').
        'access_ip_v6': (str(ipaddress.IPv6Address(access_ip_v6))
                         if access_ip_v6 else access_ip_v6),
        'config_drive': 'True' if _as_bool(server.get('config_drive'))
        else '',
        'locked': False,
    }


def _servers_of(conf, values, name):
    """``servers(count)``: the values of each of ``count`` servers made
    by one request: one reservation id, and each its uuid, launch index,
    name (from ``[api] multi_instance_display_name_template`` when
    ``count`` > 1) and hostname."""
    reservation_id = _reservation_id()

    def servers(count):
        made = []
        for index in range(count):
            uuid = str(uuidlib.uuid4())
            display_name = server_count.display_name(conf, name, index,
                                                     count, uuid)
            made.append(dict(values, uuid=uuid, display_name=display_name,
                             hostname=hostname_for(display_name, uuid),
                             reservation_id=reservation_id,
                             launch_index=index))
        return made
    return servers


def _accept(req, values, servers, counts, params, claim, tags=(),
            group=None):
    """Insert the request's servers, their actions, pending requests,
    tags (2.52) and membership of ``group`` in one transaction
    (:mod:`orchestrator.db.boot_requests`)."""
    ctxt = req.context
    return boot_requests.accept(
        values, servers, counts,
        {'request_id': ctxt.request_id, 'user_id': ctxt.user_id,
         'project_id': ctxt.project_id},
        quota=quota.for_project(req.conf, ctxt.project_id),
        request=pending_requests.request_of(
            ctxt, 'build_instance', {'params': params}),
        claim=claim, tags=tags, server_group=group)


def _start_all(ctxt, accepted, params):
    """Ask a conductor to post each server's boot flow. If none answers,
    the servers not posted yet are given back (ERROR with a fault, their
    claims on hosts released) and the client gets the 503."""
    for index, (instance, action) in enumerate(accepted):
        try:
            operations.start(ctxt, 'build_instance', instance, action,
                             params=params)
        except exception.ServiceUnavailable as e:
            allocations.release_instance(instance['uuid'])
            for other, other_action in accepted[index + 1:]:
                if db_instances.release_claim(other['uuid'],
                                              other['task_id'],
                                              fault=e.message[:255]):
                    allocations.release_instance(other['uuid'])
                pending_requests.clear(other_action['id'])
                db_actions.finish_if_open(other_action['id'],
                                          states.RESULT_ERROR,
                                          message='Conductor unavailable')
            raise


def create(req):
    """POST /servers (202 with the first server's id, links, adminPass;
    or with the reservation id)."""
    req.authorize(server_rules.CREATE)
    body = req.json_body()
    validation.validate(body, schemas.create(req.api_version))
    server = body['server']
    min_count, max_count = server_count.counts(server, req.conf)
    image_id = _image_id(server)
    flavor = _flavor(req, server)
    image = check_image_fits(active_image(req, image_id), flavor)
    zone, requested_host = requested_placement(req, server)
    requested_host = requested_destination(
        req, server, requested_host) or requested_host
    check_no_trusted_certs(server)
    check_key_and_networks(req, server)
    group = server_groups.requested_group(req, body)
    ctxt = req.context
    values = _values(req, server, flavor, image, zone)
    params = {'requested_host': requested_host} if requested_host else {}
    claim = server_count.capacity_claim(
        req.conf, host_selection.resources_of(values), min_count,
        availability_zone=zone, requested_host=requested_host)
    accepted = _accept(req, values,
                       _servers_of(req.conf, values, server['name']),
                       (min_count, max_count), params, claim,
                       tags=server.get('tags', ()), group=group)
    _start_all(ctxt, accepted, params)
    instance = accepted[0][0]
    if _as_bool(server.get('return_reservation_id', False)):
        return api_request.json_response(
            {'reservation_id': instance['reservation_id']}, status=202)
    groups = server.get('security_groups') or [{'name': 'default'}]
    result = {
        'id': instance['uuid'],
        'links': links.resource_links(req, 'servers', instance['uuid']),
        'OS-DCF:diskConfig': server.get('OS-DCF:diskConfig', 'MANUAL'),
        'security_groups': [{'name': g.get('name', 'default')}
                            for g in groups],
        # NOTE(api): returned once, never stored: the fake driver has no
        # guest to set it in.
        'adminPass': server.get('adminPass') or secrets.token_urlsafe(9),
    }
    location = links.compute_url(req, 'servers', instance['uuid'])
    return api_request.json_response({'server': result}, status=202,
                                     headers={'Location': location})

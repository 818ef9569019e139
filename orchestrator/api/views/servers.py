"""Server bodies: the short form of lists and the detailed form, per
microversion and per caller.

What shows when (the tempest.lib schemas of each version are the oracle):

* everyone: id, name, status, links, image, flavor, addresses, metadata,
  OS-EXT-STS:* (vm_state, task_state, power_state), OS-EXT-AZ (the zone
  asked for, else its host's), OS-SRV-USG,
  progress (for statuses that make progress), fault (vm_state error or
  deleted, details to admins or for non-500 faults);
* admins: OS-EXT-SRV-ATTR:host/instance_name/hypervisor_hostname, and from
  2.3 reservation_id, launch_index, hostname, kernel_id, ramdisk_id,
  root_device_name, user_data; from 2.16 host_status;
* 2.9 locked, 2.19 description, 2.26 tags,
  2.47 the flavor embedded instead of linked, 2.63
  trusted_image_certificates, 2.73 locked_reason; in show only, 2.71
  server_groups.

A rebuild's and an update's response (:meth:`ServerViewBuilder.rebuild`,
:meth:`ServerViewBuilder.update`) are the server without its extensions
before 2.75, as Nova's, and the full server from 2.75.

``status`` is :func:`orchestrator.state_machine.status` of (vm_state,
task_state) for the request's microversion
(tests/unit/api/test_old_clients.py checks every state at every
microversion against what that microversion defines).

``instance['networks']`` holds what the host reported when it plugged the
networks: one VIF as the fake driver reports it (``{"network_name":
"private", "ip_address": ..., "ip_version": 4, "mac_address": ...}``), a
list of VIFs (``[{"network": "private", "mac_addr": ..., "ips": [{"addr":
..., "version": 4, "type": "fixed"}]}]``), or Nova's ``addresses`` dict
(``{"private": [{"addr": ..., "version": 4}]}``). Anything else (e.g. the
``{"requested": ...}`` the API stores at create) shows as ``{}``.
"""

import hashlib
import ipaddress

from orchestrator import state_machine
from orchestrator import states
from orchestrator.api import links
from orchestrator.api.views import timestamps
from orchestrator.db import hosts as db_hosts
from orchestrator.db import instances as db_instances
from orchestrator.db import server_groups as db_groups
from orchestrator.db import tags as db_tags
from orchestrator.policies import servers as rules

PROGRESS_STATUSES = frozenset([
    states.STATUS_ACTIVE, states.STATUS_BUILD, states.STATUS_REBUILD,
    states.STATUS_RESIZE, states.STATUS_VERIFY_RESIZE,
    states.STATUS_MIGRATING])
FAULT_VM_STATES = frozenset([states.ERROR, states.DELETED])
#: The fields of a rebuild's or an update's server body before 2.75
#: (:meth:`ServerViewBuilder.rebuild`; each only from the microversion
#: that shows it at all).
REBUILD_FIELDS = (
    'id', 'name', 'status', 'links', 'image', 'flavor', 'tenant_id',
    'user_id', 'metadata', 'hostId', 'created', 'updated', 'addresses',
    'accessIPv4', 'accessIPv6', 'OS-DCF:diskConfig', 'progress', 'fault',
    'locked', 'description', 'tags', 'trusted_image_certificates',
    'server_groups', 'locked_reason')


def normalized_ip(value):
    """An address in its canonical text (``2001:DB8:0::1`` ->
    ``2001:db8::1``), as Nova shows access addresses (an IPAddress
    field); anything that is no address is returned as it is."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return value


def _ip_entry(ip, mac):
    addr = ip.get('addr') or ip.get('address') or ip.get('ip_address')
    try:
        parsed = ipaddress.ip_address(addr)
    except (TypeError, ValueError):
        return None
    entry = {'version': parsed.version, 'addr': str(parsed),
             'OS-EXT-IPS:type': ip.get('type') or 'fixed'}
    mac = (ip.get('mac_addr') or ip.get('OS-EXT-IPS-MAC:mac_addr')
           or ip.get('mac_address') or mac)
    if mac:
        entry['OS-EXT-IPS-MAC:mac_addr'] = mac
    return entry


def _is_vif(value):
    return isinstance(value, dict) and any(
        k in value for k in ('ip_address', 'addr', 'ips', 'fixed_ips'))


def _from_vifs(vifs):
    out = {}
    for vif in vifs:
        if not isinstance(vif, dict):
            continue
        name = str(vif.get('network_name') or vif.get('network')
                   or vif.get('label') or 'private')
        mac = vif.get('mac_addr') or vif.get('mac_address') or \
            vif.get('mac')
        ips = vif.get('ips') or vif.get('fixed_ips') or [vif]
        entries = [_ip_entry(ip, mac) for ip in ips if isinstance(ip, dict)]
        out.setdefault(name, []).extend(e for e in entries if e)
    return {name: ips for name, ips in out.items() if ips}


def addresses(networks):
    """Nova's ``addresses`` from the instance's ``networks`` column."""
    if _is_vif(networks):
        return _from_vifs([networks])
    if isinstance(networks, list):
        return _from_vifs(networks)
    out = {}
    if isinstance(networks, dict):
        for name, ips in networks.items():
            if not isinstance(ips, list):
                continue
            entries = [_ip_entry(ip, None) for ip in ips
                       if isinstance(ip, dict)]
            entries = [e for e in entries if e]
            if entries:
                out[str(name)] = entries
    return out


def embedded_flavor(flavor):
    """The 2.47 flavor of a server, from the flavor snapshot it booted
    with."""
    return {
        'original_name': flavor.get('name', ''),
        'vcpus': int(flavor.get('vcpus', 0)),
        'ram': int(flavor.get('memory_mb', 0)),
        'disk': int(flavor.get('root_gb', 0)),
        'ephemeral': int(flavor.get('ephemeral_gb', 0)),
        'swap': int(flavor.get('swap', 0)),
        'extra_specs': {str(k): str(v) for k, v in
                        (flavor.get('extra_specs') or {}).items()},
    }


def host_id(instance):
    """Nova's opaque hostId: the same for servers of one project on one
    host, without naming the host."""
    if not instance.get('host'):
        return ''
    text = '%s%s' % (instance['project_id'], instance['host'])
    return hashlib.sha224(text.encode('utf-8')).hexdigest()


class ServerViewBuilder:
    """Builds server bodies for one request.

    A list costs a fixed number of queries whatever its length:
    :meth:`details` reads the faults of the whole page in one query, and
    the services read for host_status are read once per builder.
    """

    def __init__(self, req):
        self.req = req
        self.version = req.api_version
        #: {host: its compute service or None}, read once per builder: all
        #: of them for a page (:meth:`details`), one host for one server.
        self._compute_services = {}
        self._all_services_read = False
        #: {uuid: sorted tags} of the instances of :meth:`details` (2.26+)
        self._tags = {}
        #: {uuid: newest fault or None} of the instances of :meth:`details`
        self._faults = {}
        #: {(rule, project_id): allowed}: a page asks each rule once per
        #: project, not once per server.
        self._allowed = {}

    def _can(self, rule, instance):
        """True when policy ``rule`` allows the caller on ``instance``."""
        key = (rule, instance['project_id'])
        if key not in self._allowed:
            self._allowed[key] = self.req.can(
                rule, {'project_id': instance['project_id']})
        return self._allowed[key]

    def basic(self, instance):
        """{id, name, links}: the items of ``GET /servers``."""
        return {'id': instance['uuid'],
                'name': instance['display_name'] or '',
                'links': links.resource_links(self.req, 'servers',
                                              instance['uuid'])}

    def status(self, instance):
        return state_machine.status(instance['vm_state'],
                                    instance['task_state'], self.version)

    def details(self, instances):
        """The full bodies of a page of servers (``GET /servers/detail``),
        their faults read in one query."""
        with_faults = [i['uuid'] for i in instances
                       if i['vm_state'] in FAULT_VM_STATES]
        faults = db_instances.latest_faults(with_faults)
        self._faults.update((u, faults.get(u)) for u in with_faults)
        if self.version >= (2, 26):
            self._tags.update(db_tags.for_instances(
                [i['uuid'] for i in instances]))
        if len(instances) > 1 and (
                self.req.can(rules.SHOW_HOST_STATUS)
                or any(i.get('host') and not i.get('availability_zone')
                       for i in instances)):
            self._read_services()
        return [self.detail(i) for i in instances]

    def _read_services(self, host=None):
        """Read the compute services of ``host`` (None: of every host)."""
        services = db_hosts.list_services(host=host)
        if host is None:
            self._all_services_read = True
        else:
            self._compute_services[host] = None
        for service in services:
            if 'compute' in service['binary']:
                self._compute_services[service['host']] = service

    def detail(self, instance):
        """The full server body of ``GET /servers/{id}`` and ``/detail``."""
        status = self.status(instance)
        body = self.basic(instance)
        body.update({
            'status': status,
            'tenant_id': instance['project_id'],
            'user_id': instance['user_id'],
            'metadata': instance.get('metadata') or {},
            'hostId': host_id(instance),
            'image': self._image(instance),
            'flavor': self._flavor(instance),
            'created': timestamps.zulu(instance['created_at']),
            'updated': timestamps.zulu(instance['updated_at']
                                       or instance['created_at']),
            'addresses': addresses(instance.get('networks')),
            'accessIPv4': instance.get('access_ip_v4') or '',
            'accessIPv6': normalized_ip(instance.get('access_ip_v6')
                                        or ''),
            'OS-DCF:diskConfig': 'MANUAL',
            'key_name': instance.get('key_name'),
            'config_drive': instance.get('config_drive') or '',
            'security_groups': [{'name': 'default'}],
            'OS-SRV-USG:launched_at': timestamps.iso(
                instance.get('launched_at')),
            'OS-SRV-USG:terminated_at': timestamps.iso(
                instance.get('terminated_at')),
            'OS-EXT-AZ:availability_zone': self._zone(instance),
            'OS-EXT-STS:vm_state': instance['vm_state'],
            'OS-EXT-STS:task_state': state_machine.shown_task_state(
                instance['task_state']),
            'OS-EXT-STS:power_state': instance['power_state'],
            'os-extended-volumes:volumes_attached': [],
        })
        if status in PROGRESS_STATUSES:
            body['progress'] = instance.get('progress') or 0
        fault = self._fault(instance)
        if fault is not None:
            body['fault'] = fault
        if self._can(rules.EXTENDED_ATTRIBUTES, instance):
            body.update(self._admin_attributes(instance))
        if self.version >= (2, 16) and self._can(rules.SHOW_HOST_STATUS,
                                                 instance):
            body['host_status'] = self._host_status(instance.get('host'))
        if self.version >= (2, 9):
            body['locked'] = bool(instance.get('locked'))
        if self.version >= (2, 19):
            body['description'] = instance.get('description')
        if self.version >= (2, 26):
            body['tags'] = self._tags_of(instance)
        if self.version >= (2, 63):
            # NOTE(api): no server is booted with trusted certificates
            # here (a create or rebuild asking for them is a 400).
            body['trusted_image_certificates'] = None
        if self.version >= (2, 73):
            body['locked_reason'] = instance.get('locked_reason')
        return body

    def show(self, instance):
        """The body of ``GET /servers/{id}``: :meth:`detail` and, from
        2.71, the server groups it is a member of (never in a list, as
        Nova)."""
        body = self.detail(instance)
        if self.version >= (2, 71):
            body['server_groups'] = self._server_groups(instance)
        return body

    def _server_groups(self, instance):
        """The uuids of the server groups ``instance`` belongs to (at
        most one)."""
        return db_groups.groups_of([instance['uuid']])[instance['uuid']]

    def rebuild(self, instance):
        """The server body of a rebuild's response.

        From 2.75 it is the body of :meth:`show` with ``user_data`` (2.57)
        instead of the administrators' ``OS-EXT-SRV-ATTR:user_data``.
        Before, Nova's was the server without its extensions (no
        OS-EXT-*, OS-SRV-USG, config_drive, security_groups, volumes,
        host_status) and its addresses without OS-EXT-IPS, plus
        key_name (2.54), user_data (2.57), trusted_image_certificates
        (2.63), server_groups (2.71) and locked_reason (2.73);
        tempest.lib's rebuild schemas allow nothing else."""
        if self.version >= (2, 75):
            body = self.show(instance)
            body.pop('OS-EXT-SRV-ATTR:user_data', None)
            body['user_data'] = instance.get('user_data')
            return body
        shown = self._without_extensions(instance)
        if self.version >= (2, 54):
            shown['key_name'] = instance.get('key_name')
        if self.version >= (2, 57):
            shown['user_data'] = instance.get('user_data')
        return shown

    def update(self, instance):
        """The server body of ``PUT /servers/{id}``: from 2.75 that of
        :meth:`show`; before, the server without its extensions (see
        :meth:`rebuild`; no key_name nor user_data)."""
        if self.version >= (2, 75):
            return self.show(instance)
        return self._without_extensions(instance)

    def _without_extensions(self, instance):
        """The body of a rebuild or an update before 2.75. Built from
        :meth:`show` by keeping what it allows, so a field added to
        ``detail`` stays out of it until it is added here."""
        body = self.show(instance)
        shown = {key: body[key] for key in REBUILD_FIELDS if key in body}
        shown['addresses'] = {
            name: [{'version': ip['version'], 'addr': ip['addr']}
                   for ip in ips]
            for name, ips in body['addresses'].items()}
        return shown

    def _tags_of(self, instance):
        if instance['uuid'] not in self._tags:
            self._tags.update(db_tags.for_instances([instance['uuid']]))
        return self._tags[instance['uuid']]

    def _admin_attributes(self, instance):
        attrs = {
            'OS-EXT-SRV-ATTR:host': instance.get('host'),
            'OS-EXT-SRV-ATTR:hypervisor_hostname': instance.get('node'),
            'OS-EXT-SRV-ATTR:instance_name': 'instance-%08x' % instance['id'],
        }
        if self.version >= (2, 3):
            attrs.update({
                'OS-EXT-SRV-ATTR:reservation_id':
                    instance.get('reservation_id'),
                'OS-EXT-SRV-ATTR:launch_index':
                    instance.get('launch_index') or 0,
                'OS-EXT-SRV-ATTR:hostname': instance.get('hostname') or '',
                'OS-EXT-SRV-ATTR:kernel_id': None,
                'OS-EXT-SRV-ATTR:ramdisk_id': None,
                'OS-EXT-SRV-ATTR:root_device_name': None,
                'OS-EXT-SRV-ATTR:user_data': instance.get('user_data'),
            })
        return attrs

    def _image(self, instance):
        image_ref = instance.get('image_ref')
        if not image_ref:
            # NOTE(api): Nova's "booted from volume" value; clients test
            # for the empty string.
            return ''
        return {'id': image_ref,
                'links': links.bookmark_links(self.req, 'images', image_ref)}

    def _flavor(self, instance):
        flavor = instance.get('flavor') or {}
        if self.version >= (2, 47):
            return embedded_flavor(flavor)
        flavorid = flavor.get('flavorid') or instance['flavor_id']
        return {'id': str(flavorid),
                'links': links.bookmark_links(self.req, 'flavors', flavorid)}

    def _fault(self, instance):
        if instance['vm_state'] not in FAULT_VM_STATES:
            return None
        if instance['uuid'] in self._faults:
            fault = self._faults[instance['uuid']]
        else:
            fault = db_instances.latest_fault(instance['uuid'])
        if fault is None:
            return None
        body = {'code': fault['code'],
                'created': timestamps.zulu(fault['created_at']),
                'message': fault['message'] or ''}
        # NOTE(api): as Nova: the details of a 500 (a traceback, often)
        # are for administrators only.
        if fault.get('details') and (
                fault['code'] != 500
                or self._can(rules.SHOW_FAULT_DETAILS, instance)):
            body['details'] = fault['details']
        return body

    def _compute_service(self, host):
        """The compute service of ``host`` (None: it has none), read once
        per builder."""
        if host not in self._compute_services and \
                not self._all_services_read:
            self._read_services(host)
        return self._compute_services.get(host)

    def _zone(self, instance):
        """The server's availability zone, as Nova shows it: the one it
        was created in, else the zone of its host (``[compute]
        availability_zone`` of that host, ``nova`` by default), else
        (no zone asked for, no host chosen yet) ``""``."""
        if instance.get('availability_zone'):
            return instance['availability_zone']
        if not instance.get('host'):
            return ''
        service = self._compute_service(instance['host'])
        return service['zone'] if service is not None else ''

    def _host_status(self, host):
        """UP, DOWN, MAINTENANCE (disabled), UNKNOWN (no service), or ''
        when the server has no host."""
        if not host:
            return ''
        service = self._compute_service(host)
        if service is None:
            return 'UNKNOWN'
        down_time = self.req.conf.service_down_time_s
        if not db_hosts.is_up(service, down_time):
            return 'DOWN'
        if service.get('disabled'):
            return 'MAINTENANCE'
        return 'UP'

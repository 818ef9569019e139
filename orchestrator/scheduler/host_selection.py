"""Pick hosts for an instance and claim resources on one of them.

Filters, in this order (the first one that rejects a host names why):

* requested host: when a host was asked for, every other host is out;
* reporting: the host has a compute service;
* enabled: its service is not disabled;
* up: its heartbeat is younger than ``service_down_time_s`` and it is not
  forced down;
* availability zone: when a zone was asked for, the zone the host's
  service reports (``[compute] availability_zone``) is that zone;
* capacity: the request fits the host's capacity times the allocation
  ratios (``[scheduler] *_allocation_ratio``) beside the sum of its
  allocations;
* server group: an instance in a group with a hard policy (affinity,
  anti-affinity) goes where the policy allows
  (:mod:`orchestrator.scheduler.group_policy`); checked again in the
  claim's transaction under the group's lock, so concurrent placements
  into one group obey it too (boots, and every move: migrate, resize,
  evacuate, live migration, unshelve).

Weigher (``[scheduler] weigher``): ``spread`` puts the host with the most
free RAM first, ``pack`` the one with the least; ties go by host name. A
soft group policy then puts the hosts with more (soft-affinity) or fewer
(soft-anti-affinity) of its members first.

:func:`select_with_alternates` claims on the best host that still has
room and returns the next best hosts as alternates (at most ``[scheduler]
max_attempts`` - 1) for a build to be rescheduled on;
:func:`claim_alternate` claims on one of them later, if it still passes
every filter. The claim itself is the atomic generation-checked insert of
:mod:`orchestrator.db.allocations`: concurrent claims never take a host
past its capacity.
"""

import logging

from oslo_config import cfg

from orchestrator import exception
from orchestrator.db import allocations
from orchestrator.db import hosts
from orchestrator.db import server_groups
from orchestrator.scheduler import group_policy

LOG = logging.getLogger(__name__)
COMPUTE_BINARY = 'orchestrator-compute'


def resources_of(instance):
    """The resources an instance (dict) consumes on its host."""
    return {'vcpus': instance['vcpus'], 'memory_mb': instance['memory_mb'],
            'disk_gb': instance['root_gb'] + (instance['ephemeral_gb'] or 0)}


def _ratios(conf):
    return {'vcpus': conf.scheduler.cpu_allocation_ratio,
            'memory_mb': conf.scheduler.ram_allocation_ratio,
            'disk_gb': conf.scheduler.disk_allocation_ratio}


def describe(resources):
    """``resources`` as a person reads them (for NoValidHost reasons)."""
    return '%d vCPU, %d MB RAM, %d GB disk' % (
        resources['vcpus'], resources['memory_mb'], resources['disk_gb'])


#: Why a host did not pass, by filter (the values of filter_hosts()).
EXCLUDED = 'excluded'
NOT_REQUESTED = 'not the requested host'
NOT_REPORTING = 'not reporting (no compute service)'
DISABLED = 'disabled'
DOWN = 'down'
OTHER_ZONE = 'in another availability zone'
NO_ROOM = 'without room'


def filter_hosts(resources, exclude=(), availability_zone=None,
                 requested_host=None, conf=None):
    """Run the filters over every compute node and weigh the survivors.

    Reads the database and changes nothing, so calling it again is
    harmless (the answer follows the hosts' heartbeats and usage).

    :param exclude: hosts that never pass (e.g. a migration's source).
    :param availability_zone: only hosts of this zone pass (None: any).
    :param requested_host: only this host may pass (None: any).
    :returns: (hosts that pass, best first; {host: why it did not pass}
        for every other compute node, the why being one of the reasons
        above).
    """
    conf = conf or cfg.CONF
    services = {s['host']: s for s in
                hosts.list_services(binary=COMPUTE_BINARY)}
    usage = allocations.usage_by_host()
    ratios = _ratios(conf)
    empty = {'vcpus': 0, 'memory_mb': 0, 'disk_gb': 0}
    passing = []
    rejected = {}
    for node in hosts.list_compute_nodes():
        name = node['host']
        service = services.get(name)
        used = usage.get(name, empty)
        if name in exclude:
            rejected[name] = EXCLUDED
        elif requested_host is not None and name != requested_host:
            rejected[name] = NOT_REQUESTED
        elif service is None:
            rejected[name] = NOT_REPORTING
        elif service['disabled']:
            rejected[name] = DISABLED
        elif not hosts.is_up(service, conf.service_down_time_s):
            rejected[name] = DOWN
        elif (availability_zone is not None
              and service['zone'] != availability_zone):
            rejected[name] = OTHER_ZONE
        elif not allocations.fits(node, used, resources, ratios):
            rejected[name] = NO_ROOM
        else:
            free_ram = (node['memory_mb'] * ratios['memory_mb']
                        - used['memory_mb'])
            passing.append((free_ram, name))
    return _weighed(passing, conf), rejected


def _weighed(passing, conf):
    """Host names of ``passing`` ((free RAM, name) pairs), best first
    by ``[scheduler] weigher``; ties go by name."""
    if conf.scheduler.weigher == 'pack':
        passing = sorted(passing, key=lambda item: (item[0], item[1]))
    else:
        passing = sorted(passing, key=lambda item: (-item[0], item[1]))
    return [name for _free, name in passing]


def candidate_hosts(resources, exclude=(), conf=None,
                    availability_zone=None, requested_host=None):
    """Hosts that pass every filter, best first (see filter_hosts)."""
    return filter_hosts(resources, exclude, availability_zone,
                        requested_host, conf)[0]


def _why_none(resources, rejected, availability_zone, requested_host):
    """The reason of a NoValidHost, from filter_hosts' rejections."""
    wanted = describe(resources)
    if requested_host is not None:
        why = rejected.get(requested_host)
        if why is None:
            return ('The requested host %s is not a compute host'
                    % requested_host)
        if why == OTHER_ZONE:
            why = 'not in availability zone %s' % availability_zone
        elif why == NO_ROOM:
            why = 'without room for %s' % wanted
        return 'The requested host %s is %s' % (requested_host, why)
    if not rejected:
        return 'No compute host is reporting'
    where = ('' if availability_zone is None
             else ' in availability zone %s' % availability_zone)
    return '%d host(s) considered for %s%s: %s' % (
        len(rejected), wanted, where, count_reasons(rejected))


def describe_rejections(resources, rejected, availability_zone=None,
                        requested_host=None):
    """Why no host passed, from :func:`filter_hosts`' rejections (the
    reason of a NoValidHost)."""
    return _why_none(resources, rejected, availability_zone, requested_host)


def _claim_on(consumer_uuid, instance_uuid, host, resources, conf,
              honour_group=True):
    """Claim on ``host``, retrying a claim that raced with another on
    fresh numbers, under the instance's server group's policy (unless
    not ``honour_group``).

    :returns: (the allocation or None, why not: NO_ROOM or the group's
        refusal)."""
    ratios = _ratios(conf)
    guard = group_policy.guard_in if honour_group else None
    for _attempt in range(conf.scheduler.claim_retries):
        try:
            allocation = allocations.claim(consumer_uuid, instance_uuid,
                                           host, resources, ratios,
                                           guard=guard)
            return allocation, None if allocation is not None else NO_ROOM
        except exception.ClaimRace:
            continue
        except exception.HostRefused as e:
            return None, e.kwargs['reason']
    return None, NO_ROOM


def _apply_group(instance_uuid, candidates, rejected):
    """The candidates the instance's server group allows, weighed by it
    (read without a lock: the claim checks again under it)."""
    group = server_groups.group_of(instance_uuid)
    if group is None:
        return candidates
    passing, refused = group_policy.filter_and_weigh(
        group, candidates,
        server_groups.member_hosts(group['uuid'], instance_uuid))
    for host in refused:
        rejected[host] = group_policy.reason(group)
    return passing


def select_with_alternates(consumer_uuid, instance_uuid, resources,
                           exclude=(), availability_zone=None,
                           requested_host=None, max_alternates=None,
                           conf=None, honour_group=True):
    """Claim ``resources`` on the best host; name the next best ones.

    Tries the hosts that pass the filters in order; a host that filled
    up meanwhile is skipped. Re-run after a crash: a consumer's claim on
    a host is returned as it is (nothing is claimed twice on one host).

    :param max_alternates: at most this many alternates (default
        ``[scheduler] max_attempts`` - 1).
    :param honour_group: False for a move forced to ``requested_host``
        (Nova's ``force``), which the instance's server group does not
        constrain (the other filters still apply).
    :returns: (the allocation dict, whose ``host`` is the chosen host;
        the alternates, best first, never holding that host).
    :raises NoValidHost: no host passes the filters or has room; the
        reason says which filters left none.
    """
    conf = conf or cfg.CONF
    if max_alternates is None:
        max_alternates = conf.scheduler.max_attempts - 1
    candidates, rejected = filter_hosts(resources, exclude,
                                        availability_zone, requested_host,
                                        conf)
    if honour_group:
        candidates = _apply_group(instance_uuid, candidates, rejected)
    for index, host in enumerate(candidates):
        allocation, why = _claim_on(consumer_uuid, instance_uuid, host,
                                    resources, conf, honour_group)
        if allocation is not None:
            alternates = candidates[index + 1:index + 1 + max_alternates]
            return allocation, alternates
        LOG.debug('Host %s is %s for %s', host, why, instance_uuid)
        rejected[host] = why
    raise exception.NoValidHost(reason=_why_none(
        resources, rejected, availability_zone, requested_host))


def select_and_claim(consumer_uuid, instance_uuid, resources, exclude=(),
                     conf=None, availability_zone=None, requested_host=None,
                     honour_group=True):
    """Claim ``resources`` on the best host that has room.

    :func:`select_with_alternates` without alternates: same filters,
    same re-run behaviour.

    :returns: the allocation dict (its ``host`` is the chosen host).
    :raises NoValidHost: no host passes the filters or has room.
    """
    allocation, _none = select_with_alternates(
        consumer_uuid, instance_uuid, resources, exclude=exclude,
        availability_zone=availability_zone, requested_host=requested_host,
        max_alternates=0, conf=conf, honour_group=honour_group)
    return allocation


def claim_alternate(consumer_uuid, instance_uuid, host, resources,
                    availability_zone=None, conf=None):
    """Claim ``resources`` on the alternate ``host`` if it still passes
    every filter (it may have gone down, been disabled or filled up since
    it was chosen).

    Re-run: a claim the consumer already holds there is returned as it
    is.

    :returns: the allocation dict, or None when the host does not pass.
    """
    conf = conf or cfg.CONF
    candidates = candidate_hosts(resources, conf=conf,
                                 availability_zone=availability_zone,
                                 requested_host=host)
    if host not in candidates:
        return None
    return _claim_on(consumer_uuid, instance_uuid, host, resources, conf)[0]


def claim_in(s, instance_uuid, resources, candidates, conf=None,
             rejected=None):
    """Claim ``resources`` for the instance on the best of ``candidates``
    (hosts that passed :func:`filter_hosts` before the transaction
    began) that has room, in the caller's write transaction ``s``: the
    hosts are weighed again there and the room and the instance's server
    group's policy are checked there, so they count the claims ``s`` made
    before (the ``spread`` weigher spreads a request's servers, ``pack``
    packs them). A multiple create claims its ``min_count`` servers this
    way, all in one transaction; their boot flows find the claims
    (:class:`flows.tasks.scheduling.ScheduleInstance`).

    :param rejected: a dict filled with {host: why it was not claimed}
        (NO_ROOM, or the server group's refusal), when given.
    :returns: the allocation dict, or None when no candidate has room.
    :raises ClaimRace: a candidate changed under the transaction (it
        must start again).
    """
    rejected = {} if rejected is None else rejected
    conf = conf or cfg.CONF
    ratios = _ratios(conf)
    check = group_policy.guard_in(s, instance_uuid)
    free = allocations.free_ram_in(s, candidates, ratios['memory_mb'])
    ranked = _weighed([(free[h], h) for h in candidates if h in free],
                      conf)
    for host in ranked:
        try:
            allocation = allocations.claim_in(
                s, instance_uuid, instance_uuid, host, resources, ratios,
                check=check)
        except exception.HostRefused as e:
            rejected[host] = e.kwargs['reason']
            continue
        if allocation is not None:
            return allocation
        rejected[host] = NO_ROOM
    return None


def count_reasons(rejected):
    """'2 without room, 1 refused by ...': ``rejected``'s reasons
    counted, in order."""
    counts = {}
    for why in rejected.values():
        counts[why] = counts.get(why, 0) + 1
    return ', '.join('%d %s' % (n, why) for why, n in sorted(counts.items()))

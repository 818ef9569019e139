"""A server group's policy as a filter and a weigher of hosts.

``member_hosts`` is {host: members of the group there} (the one being
placed left out), as :func:`orchestrator.db.server_groups.member_hosts_in`
reads it.

* ``anti-affinity``: a host passes while it holds fewer than
  ``rules['max_server_per_host']`` members (1 unless the group has that
  rule, 2.64+);
* ``affinity``: the host of the members already placed; any host for the
  first;
* ``soft-affinity`` / ``soft-anti-affinity``: every host passes; the
  weigher puts hosts with more (resp. fewer) members first, keeping the
  order of the other weighers between hosts with as many.

The filter is checked twice: once over the candidates, read without a
lock (to choose well), and again inside the claim's transaction under the
group's lock (:func:`orchestrator.db.allocations.claim`), which is what
makes concurrent placements obey it.
"""

from orchestrator.db import server_groups

#: Why a host did not pass (host_selection's rejection reasons).
REFUSED = 'refused by the server group\'s %s policy'


def max_per_host(group):
    return int((group.get('rules') or {}).get('max_server_per_host') or 1)


def host_passes(group, host, member_hosts):
    """True if placing one more member on ``host`` obeys the group."""
    policy = group['policy']
    if policy == server_groups.ANTI_AFFINITY:
        return member_hosts.get(host, 0) < max_per_host(group)
    if policy == server_groups.AFFINITY:
        placed = [h for h, n in member_hosts.items() if n > 0]
        return not placed or host in placed
    return True


def reason(group):
    return REFUSED % group['policy']


def filter_and_weigh(group, candidates, member_hosts):
    """(candidates that pass, in the order the policy weighs them; the
    ones refused)."""
    passing = [h for h in candidates if host_passes(group, h, member_hosts)]
    refused = [h for h in candidates if h not in passing]
    policy = group['policy']
    if policy == server_groups.SOFT_AFFINITY:
        passing.sort(key=lambda h: -member_hosts.get(h, 0))
    elif policy == server_groups.SOFT_ANTI_AFFINITY:
        passing.sort(key=lambda h: member_hosts.get(h, 0))
    return passing, refused


def guard_in(s, instance_uuid):
    """The placement guard of :func:`orchestrator.db.allocations.claim`:
    locks the instance's group (first, see
    :mod:`orchestrator.db.server_groups`) and returns ``check(host)`` ->
    None when the host obeys the group's hard policy, else why not;
    None when the instance is in no group or a soft one."""
    group = server_groups.lock_of_member_in(s, instance_uuid)
    if group is None or group['policy'] not in server_groups.HARD_POLICIES:
        return None

    def check(host):
        placed = server_groups.member_hosts_in(s, group['uuid'],
                                               instance_uuid)
        return None if host_passes(group, host, placed) else reason(group)
    return check

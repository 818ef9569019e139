"""Multiple create: ``min_count``, ``max_count`` and what follows.

Nova's rules, as its API reference gives them: both are integers >= 1
(the schema refuses anything else), ``min_count`` <= ``max_count``
(400 otherwise), ``max_count`` defaults to ``min_count``. Beyond Nova,
``[api] max_servers_per_request`` caps them (400 above it).

How many servers are made: as many as the project's quota allows between
``min_count`` and ``max_count`` (fewer than ``min_count``: 403 with
Nova's message, nothing made), decided in the insert's transaction
(:mod:`orchestrator.db.boot_requests`).

Capacity, all or nothing for ``min_count``: when ``min_count`` > 1, the
resources of the first ``min_count`` servers are claimed on hosts in the
same transaction that inserts the servers (:func:`capacity_claim`); when
they cannot all be placed the request is refused (409, nothing created:
no server, no allocation, no pending request). The claims are the
scheduler's generation-checked ones, so two requests racing for the last
room cannot both pass. The servers beyond ``min_count`` are placed by
their own boot flows as any single boot is, and one that finds no room
ends in ERROR with a NoValidHost fault. (Nova answers 202 and fails the
whole request's servers with NoValidHost later when its scheduler
cannot place all of them; refusing at once keeps the rule the request
states, min_count or nothing, and leaves nothing to clean up.)

Names: with more than one server made, each is named from
``[api] multi_instance_display_name_template`` (Nova's '%(name)s-
%(count)d' by default, count from 1), and its hostname follows.
"""

from orchestrator import exception
from orchestrator.scheduler import host_selection


def counts(server, conf):
    """(min_count, max_count) of a create request's ``server``; 400 for
    a count below 1, above ``[api] max_servers_per_request``, or
    min_count > max_count."""
    try:
        min_count = int(server.get('min_count', 1))
        max_count = int(server.get('max_count', min_count))
    except (TypeError, ValueError):
        raise exception.Invalid('min_count and max_count must be '
                                'integers') from None
    for field, value in (('min_count', min_count), ('max_count', max_count)):
        if value < 1:
            raise exception.ValidationError(
                field=field, reason='%d is less than the minimum of 1'
                % value)
    if min_count > max_count:
        raise exception.Invalid('min_count must be <= max_count')
    cap = conf.api.max_servers_per_request
    if max_count > cap:
        raise exception.Invalid(
            'max_count (%d) is more than the %d servers one request may '
            'create ([api] max_servers_per_request)' % (max_count, cap))
    return min_count, max_count


def display_name(conf, name, index, count, uuid):
    """The name of the server at ``index`` (from 0) of ``count`` made."""
    if count <= 1:
        return name
    template = conf.api.multi_instance_display_name_template
    try:
        return template % {'name': name, 'count': index + 1, 'uuid': uuid}
    except (KeyError, TypeError, ValueError):
        # NOTE(api): a template the operator got wrong must not make
        # every multiple create a 500; Nova's default stands in.
        return '%s-%d' % (name, index + 1)


def capacity_claim(conf, resources, min_count, availability_zone=None,
                   requested_host=None):
    """The ``claim(session, instance)`` that
    :func:`orchestrator.db.boot_requests.accept` runs for each of the
    first ``min_count`` servers, or None when ``min_count`` is 1 (a
    single server is placed by its boot flow, as always).

    The hosts that pass the scheduler's filters are read now; each claim
    is made in the accept transaction on the first of them with room.
    :raises InsufficientCapacity: (from the claim) a server finds no
        room; the transaction rolls back.
    """
    if min_count <= 1:
        return None
    candidates, rejected = host_selection.filter_hosts(
        resources, availability_zone=availability_zone,
        requested_host=requested_host, conf=conf)

    def claim(s, instance):
        refused = {}
        if host_selection.claim_in(s, instance['uuid'], resources,
                                   candidates, conf=conf,
                                   rejected=refused) is None:
            reason = ('%d passing host(s) cannot take all of them: %s'
                      % (len(candidates),
                         host_selection.count_reasons(refused))
                      if candidates else
                      host_selection.describe_rejections(
                          resources, rejected, availability_zone,
                          requested_host))
            raise exception.InsufficientCapacity(min_count=min_count,
                                                 reason=reason)
    return claim

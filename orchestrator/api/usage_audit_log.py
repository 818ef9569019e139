"""``/v2.1/os-instance_usage_audit_log``: how far each compute host got
with the usage audit of the last completed period (administrators).

* ``GET /os-instance_usage_audit_log`` (200
  ``{"instance_usage_audit_logs": {...}}``): the period before now;
* ``GET /os-instance_usage_audit_log/{before_timestamp}`` (200
  ``{"instance_usage_audit_log": {...}}``): the last period completed
  before ``YYYY-MM-DD HH:MM:SS[.ffffff]`` (UTC); any other text is a 400.

In Nova a periodic task on each compute host audits the usage of its
instances once per period and records a task log, which this API sums
up. This deployment runs no such task, so the answer is the one Nova
gives for a period no host audited: every compute host (each host with
a compute service, disabled or down ones included) is in
``hosts_not_run``, nothing is done or running, ``log`` is empty, no
instance or error was counted. ``overall_status`` reads as Nova's:
``"0 of N hosts done. 0 errors."`` (``"ALL hosts done. 0 errors."``
when there is no compute host at all, Nova's wording for 0 of 0).

The period is Nova's default one, a calendar month (UTC): the last month
that ended at or before the given instant (``period_beginning`` the 1st
of the month before, ``period_ending`` the 1st of the month), written as
Python writes a datetime (``2026-11-01 00:00:00``), as Nova does.
Query parameters are ignored, as in Nova. The API has it at every
microversion from 2.1.
"""

import datetime

from orchestrator import exception
from orchestrator.api import request as api_request
from orchestrator.db import hosts as db_hosts
from orchestrator.db import models
from orchestrator.policies import usage as rules
from orchestrator.scheduler import host_selection

_FORMAT = '%Y-%m-%d %H:%M:%S'
_FORMAT_FRACTION = '%Y-%m-%d %H:%M:%S.%f'


def _month_start(year, month):
    """The first instant of ``month`` of ``year``; month 0 is the
    December before."""
    if month < 1:
        year, month = year - 1, month + 12
    return datetime.datetime(year, month, 1)


def last_completed_month(before):
    """(beginning, ending) of the last calendar month that ended at or
    before ``before`` (a naive UTC datetime): a month ends the instant
    the next one begins, so on the 1st at midnight that month is not
    complete yet."""
    ending = _month_start(before.year, before.month)
    if ending >= before:
        ending = _month_start(before.year, before.month - 1)
    return _month_start(ending.year, ending.month - 1), ending


def parse_before(text):
    """``text`` (``YYYY-MM-DD HH:MM:SS``, with ``.ffffff`` when it has a
    dot) as a naive datetime.

    :raises Invalid: any other text (400, Nova's message).
    """
    try:
        before = datetime.datetime.strptime(
            text, _FORMAT_FRACTION if '.' in text else _FORMAT)
        # NOTE(api): in January of year 1 the month before is not a
        # date Python has: a 400 as well, never a 500.
        last_completed_month(before)
    except ValueError:
        raise exception.Invalid('Invalid timestamp for date %s'
                                % text) from None
    return before


def report(before):
    """Nova's audit log summary of the period before ``before`` when no
    host ran the audit (see the module's docstring)."""
    beginning, ending = last_completed_month(before)
    hosts = sorted({service['host'] for service in db_hosts.list_services(
        binary=host_selection.COMPUTE_BINARY)})
    done = 'ALL' if not hosts else '0 of %d' % len(hosts)
    return {
        'period_beginning': str(beginning),
        'period_ending': str(ending),
        'num_hosts': len(hosts),
        'num_hosts_done': 0,
        'num_hosts_running': 0,
        'num_hosts_not_run': len(hosts),
        'hosts_not_run': hosts,
        'total_instances': 0,
        'total_errors': 0,
        'overall_status': '%s hosts done. 0 errors.' % done,
        'log': {},
    }


def index(req):
    """GET /os-instance_usage_audit_log (200; 403)."""
    req.authorize(rules.AUDIT_LOG_LIST)
    return api_request.json_response(
        {'instance_usage_audit_logs': report(models.utcnow())})


def show(req, before_timestamp):
    """GET /os-instance_usage_audit_log/{before_timestamp} (200; 400,
    403)."""
    req.authorize(rules.AUDIT_LOG_SHOW)
    before = parse_before(before_timestamp)
    return api_request.json_response(
        {'instance_usage_audit_log': report(before)})


def register(router):
    router.add('GET', '/v2.1/os-instance_usage_audit_log', index)
    router.add('GET', '/v2.1/os-instance_usage_audit_log/{before_timestamp}',
               show)

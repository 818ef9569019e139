"""TaskFlow's Redis jobboard with leased claims.

TaskFlow's :class:`~taskflow.jobs.backends.impl_redis.RedisJobBoard` keeps
a job's owner in a key of its own (``<namespace>:<job uuid>.owned``); a
claim may give that key a TTL, but its conductors never extend it: without
a TTL a dead owner's job is never retaken, with one a live owner's claim
lapses mid-flow. :class:`LeasedRedisJobBoard` makes every claim a lease of
``claim_lease_s`` seconds and adds :meth:`~LeasedRedisJobBoard.renew_claim`
to extend it (see :mod:`orchestrator.conductor.leases`), with the same
semantics as the SQL board's (one contract test suite covers both).

Clock: lease expiry is Redis's own (key TTLs), one clock for every
conductor.
"""

import datetime

from taskflow import exceptions as tf_exc
from taskflow.jobs import base
from taskflow.jobs.backends import impl_redis
from taskflow.utils import misc

from orchestrator.conductor import jobboard_sql
from orchestrator.conductor import leases

# Same arguments as TaskFlow's claim script (KEYS: owner, listings,
# last-modified; ARGV: who, job key, last-modified blob, lease in ms), but
# a claim by the current owner succeeds (and renews the lease).
_CLAIM = """
local owner_key = KEYS[1]
local listings_key = KEYS[2]
local last_modified_key = KEYS[3]
local who = ARGV[1]
local job_key = ARGV[2]
local last_modified_blob = ARGV[3]
local ms_lease = tonumber(ARGV[4])
local result = {}
if redis.call("hexists", listings_key, job_key) == 0 then
    result["status"] = "${error}"
    result["reason"] = "${unknown_job}"
    return cmsgpack.pack(result)
end
local owner = redis.call("get", owner_key)
if owner and owner ~= who then
    result["status"] = "${error}"
    result["reason"] = "${already_claimed}"
    result["owner"] = owner
    return cmsgpack.pack(result)
end
if ms_lease then
    redis.call("set", owner_key, who, "PX", ms_lease)
else
    redis.call("set", owner_key, who)
end
redis.call("set", last_modified_key, last_modified_blob)
result["status"] = "${ok}"
return cmsgpack.pack(result)
"""

# KEYS: owner, listings; ARGV: who, job key, lease in ms. Returns 1 when
# the lease was extended, 0 when who holds no claim on a listed job.
_RENEW = """
local owner_key = KEYS[1]
local listings_key = KEYS[2]
if redis.call("hexists", listings_key, ARGV[2]) == 1
        and redis.call("get", owner_key) == ARGV[1] then
    redis.call("pexpire", owner_key, tonumber(ARGV[3]))
    return 1
end
return 0
"""


def _listing_order(job):
    return (-jobboard_sql.PRIORITY_VALUES[job.priority], job.sequence)


class LeasedRedisJobBoard(impl_redis.RedisJobBoard):
    """Redis jobboard whose claims are leases that the owner renews.

    :param name: the board's name.
    :param conf: TaskFlow's Redis board conf (``host``, ``port``, ``db``,
        ``password``, ``username``, ``ssl``..., ``namespace``) plus
        ``claim_lease_s`` (alias ``lease_s``; default 30) and
        ``board_name``: when given, the board's keys live under
        ``<namespace>:<board_name>:`` so boards of other names share no
        jobs (as on the SQL board); without it, TaskFlow's layout.
    :param client: an existing redis client (not closed by the board).
    :param persistence: backend the jobs' logbooks are loaded from.

    Differences from TaskFlow's board: ``claim`` always sets a TTL (the
    lease, unless ``expiry`` is given) and succeeds when ``who`` already
    owns the job, except through the board instance that claimed it (see
    :class:`~orchestrator.conductor.jobboard_sql.SQLJobBoard`'s NOTE);
    ``find_owner`` returns None for a job without a live claim; jobs of
    one priority are listed oldest first (TaskFlow's lists newest first).
    """

    SCRIPT_TEMPLATES = dict(impl_redis.RedisJobBoard.SCRIPT_TEMPLATES,
                            claim=_CLAIM, renew_claim=_RENEW)

    def __init__(self, name, conf, client=None, persistence=None):
        conf = dict(conf or {})
        super().__init__(name, conf, client=client, persistence=persistence)
        self._lease_s = jobboard_sql.lease_from_conf(conf)
        self._local_claims = leases.LocalClaims()
        if conf.get('board_name'):
            self._namespace = b''.join([
                misc.binary_encode(self._namespace), self.NAMESPACE_SEP,
                misc.binary_encode(conf['board_name'])])

    def _fetch_jobs(self):
        return sorted(super()._fetch_jobs(), key=_listing_order)

    @property
    def lease_s(self):
        """Seconds a claim or a renewal lasts."""
        return self._lease_s

    def find_owner(self, job):
        """The owner while the claim is live, else None."""
        with impl_redis._translate_failures():
            raw_owner = self._client.get(job.owner_key)
        return None if raw_owner is None else self._decode_owner(raw_owner)

    def claims(self):
        """{job uuid: {'details', 'owner', 'expires'}} of every job on the
        board (as :meth:`SQLJobBoard.claims
        <orchestrator.conductor.jobboard_sql.SQLJobBoard.claims>`): the
        live owner and when its lease ends (naive UTC, from the owner
        key's TTL), in one round trip for all the jobs."""
        jobs = list(self.iterjobs(ensure_fresh=True))
        with impl_redis._translate_failures():
            pipeline = self._client.pipeline()
            for job in jobs:
                pipeline.get(job.owner_key)
                pipeline.pttl(job.owner_key)
            answers = pipeline.execute()
        now = datetime.datetime.now(datetime.timezone.utc).replace(
            tzinfo=None)
        out = {}
        for index, job in enumerate(jobs):
            raw_owner, ttl_ms = answers[2 * index:2 * index + 2]
            owner = None if raw_owner is None else self._decode_owner(
                raw_owner)
            expires = None
            if owner is not None and ttl_ms is not None and ttl_ms >= 0:
                expires = now + datetime.timedelta(milliseconds=ttl_ms)
            out[job.uuid] = {'details': job.details or {}, 'owner': owner,
                             'expires': expires}
        return out

    @base.check_who
    def claim(self, job, who, expiry=None):
        """Claim ``job`` for ``who`` for ``expiry`` (default: the lease)
        seconds.

        :raises UnclaimableJob: another owner holds it, or this instance
            already claimed it.
        :raises NotFound: the job was consumed or trashed.
        """
        with self._local_claims.claiming(job):
            super().claim(job, who,
                          expiry=self._lease_s if expiry is None else expiry)

    @base.check_who
    def renew_claim(self, job, who):
        """Extend ``who``'s live claim on ``job`` by the lease, atomically.

        :returns: True when renewed; False when ``who`` holds no live claim
            any more (expired, taken by another, consumed, trashed).
        :raises JobFailure: Redis failed (the claim may still hold).
        """
        if not self.connected:
            raise tf_exc.JobFailure('Can not renew the claim on job %s: the '
                                    'board %r is not connected'
                                    % (job.uuid, self.name))
        script = self._get_script('renew_claim')
        with impl_redis._translate_failures():
            renewed = script(
                keys=[job.owner_key, self.listings_key],
                args=[self._encode_owner(who), job.key,
                      int(self._lease_s * 1000)])
        return bool(renewed)

    @base.check_who
    def consume(self, job, who):
        try:
            super().consume(job, who)
        finally:
            self._local_claims.release(job)

    @base.check_who
    def abandon(self, job, who):
        try:
            super().abandon(job, who)
        finally:
            self._local_claims.release(job)

    @base.check_who
    def trash(self, job, who):
        try:
            super().trash(job, who)
        finally:
            self._local_claims.release(job)


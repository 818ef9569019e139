"""One hierarchy of errors; each knows its HTTP code and its message.

The API turns any :class:`OrchestratorError` into a Nova-style error body
(``{"itemNotFound": {"message": ..., "code": 404}}``) with its code; any
other exception becomes a 500 and is logged as a bug.
"""


class OrchestratorError(Exception):
    """Base error. ``msg_fmt`` is formatted with the keyword arguments."""

    msg_fmt = 'An unknown error occurred.'
    code = 500

    def __init__(self, message=None, **kwargs):
        self.kwargs = kwargs
        if message is None:
            try:
                message = self.msg_fmt % kwargs
            except (KeyError, TypeError):
                message = self.msg_fmt
        self.message = message
        super().__init__(message)


# -- 400 ---------------------------------------------------------------------
class Invalid(OrchestratorError):
    msg_fmt = 'Invalid input: %(reason)s'
    code = 400


class ValidationError(Invalid):
    msg_fmt = 'Invalid input for field/attribute %(field)s: %(reason)s'


class FlavorNotAvailable(Invalid):
    msg_fmt = 'Flavor %(flavor_id)s could not be found.'


class ImageNotAvailable(Invalid):
    msg_fmt = 'Can not find requested image %(image_id)s.'


class MigrationPreCheckError(Invalid):
    """A host refused a live migration in its pre-checks."""

    msg_fmt = 'Migration pre-check error: %(reason)s'


# -- 403 ---------------------------------------------------------------------
class Forbidden(OrchestratorError):
    msg_fmt = 'Policy does not allow %(action)s to be performed.'
    code = 403


class QuotaError(Forbidden):
    """A request would pass a quota of its project (403, as in Nova)."""

    msg_fmt = 'Quota exceeded: %(reason)s'


class TooManyInstances(QuotaError):
    """Nova's message; the lists name every resource over its limit."""

    msg_fmt = ('Quota exceeded for %(overs)s: Requested %(req)s, but '
               'already used %(used)s of %(allowed)s %(overs)s')


class MetadataLimitExceeded(QuotaError):
    msg_fmt = 'Maximum number of metadata items exceeds %(allowed)d'


# -- 404 ---------------------------------------------------------------------
class NotFound(OrchestratorError):
    msg_fmt = 'Resource could not be found.'
    code = 404


class InstanceNotFound(NotFound):
    msg_fmt = 'Instance %(instance_id)s could not be found.'


class FlavorNotFound(NotFound):
    msg_fmt = 'Flavor %(flavor_id)s could not be found.'


class ImageNotFound(NotFound):
    msg_fmt = 'Image %(image_id)s could not be found.'


class InstanceActionNotFound(NotFound):
    msg_fmt = ('Action for request_id %(request_id)s on instance '
               '%(instance_id)s not found')


class HostNotFound(NotFound):
    msg_fmt = 'Compute host %(host)s could not be found.'


class GuestNotFound(NotFound):
    """A host has no guest for the instance (it vanished or never was)."""

    msg_fmt = 'Host %(host)s has no guest of instance %(instance_uuid)s.'


class MigrationNotFound(NotFound):
    msg_fmt = 'Migration %(migration_id)s could not be found.'


# -- 409 ---------------------------------------------------------------------
class Conflict(OrchestratorError):
    msg_fmt = 'Conflict: %(reason)s'
    code = 409


class ImageExists(Conflict):
    msg_fmt = 'An image with identifier %(image_id)s already exists.'


class InstanceIsLocked(Conflict):
    """A non-administrator acted on a locked server (Nova's 409)."""

    msg_fmt = 'Instance %(instance_uuid)s is locked'


class InstanceInvalidState(Conflict):
    """The allowed-actions table refused the action (or lost a race)."""

    msg_fmt = '%(reason)s'


class GuestNotRunning(Conflict):
    """The operation needs a running guest (a password change, a crash
    dump) and the host or the database says it does not run."""
    msg_fmt = ('The guest of instance %(instance_uuid)s is not running '
               '(power state %(power_state)s)')


class MigrationAborted(Conflict):
    """A live migration stopped on an administrator's abort. Raised by
    the source host's copy loop (it crosses RPC as itself) or by the flow
    when it finds its migration record cancelled."""

    msg_fmt = ('Live migration %(migration_uuid)s of instance '
               '%(instance_uuid)s was aborted')


# -- 406 / 503 ---------------------------------------------------------------
class VersionNotAcceptable(OrchestratorError):
    msg_fmt = 'Version %(version)s is not supported by the API. ' \
              'Minimum is %(min)s and maximum is %(max)s.'
    code = 406


class ServiceUnavailable(OrchestratorError):
    msg_fmt = 'Service unavailable: %(reason)s'
    code = 503


class UnsupportedMediaType(OrchestratorError):
    msg_fmt = 'Unsupported Content-Type: %(content_type)s'
    code = 415


class ImageStoreFull(OrchestratorError):
    """The image store has no room for an upload (Glance's 413)."""

    msg_fmt = 'Image storage media is full.'
    code = 413


# -- internal (never shown as such to clients) --------------------------------
class Preempted(OrchestratorError):
    """A flow's claim on an instance is gone (another task took over).

    Raised by a compare-and-swap state write that found another task_id, or
    by a claim check before a side effect. The flow stops and reverts what
    it did; the preempting task owns the instance now.
    """

    msg_fmt = ('Task %(task_id)s no longer owns instance %(instance_uuid)s '
               '(preempted)')
    code = 409


class NoValidHost(OrchestratorError):
    msg_fmt = 'No valid host was found. %(reason)s'
    code = 500


class HostRefused(OrchestratorError):
    """A claim's placement guard refused the host (e.g. a server group's
    hard policy, checked under the group's lock); try another host."""

    msg_fmt = 'Host %(host)s is %(reason)s'


class ClaimRace(OrchestratorError):
    """A host's generation moved while claiming on it; retry the claim."""

    msg_fmt = 'Host %(host)s changed while claiming on it'


class ComputeHostError(OrchestratorError):
    """A compute host failed a request (the driver raised)."""

    msg_fmt = 'Compute host %(host)s failed %(method)s: %(reason)s'
    code = 500


class InjectedFault(OrchestratorError):
    """The fake driver failed on purpose (fault injection)."""

    msg_fmt = 'Injected fault in %(method)s on %(host)s'


class FlowInterrupted(OrchestratorError):
    """A step was running when its conductor died, and its flow's resume
    policy is revert (the failure recorded for that step)."""

    msg_fmt = ('Interrupted by the restart of its conductor; the flow '
               '%(flow)s is reverted (its resume policy)')


class InsufficientCapacity(Conflict):
    """A multiple create whose ``min_count`` servers cannot all be placed
    now (nothing was created)."""

    msg_fmt = ('No valid host was found for %(min_count)d servers '
               '(min_count): %(reason)s. Nothing was created.')

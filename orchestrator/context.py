"""The request context: who asks, for which project, under which request id.

It crosses every boundary as a plain dict (:meth:`RequestContext.to_dict`):
over RPC through :class:`orchestrator.rpc.ContextSerializer` and into a
flow's store, which must stay JSON-safe.
"""

from oslo_context import context as oslo_context


class RequestContext(oslo_context.RequestContext):
    """oslo.context's context; ``is_admin`` decides admin-only actions."""

    def to_dict(self):
        values = super().to_dict()
        values['is_admin'] = self.is_admin
        return values

    @classmethod
    def from_dict(cls, values, **kwargs):
        kwargs.setdefault('is_admin', values.get('is_admin', False))
        return super().from_dict(values, **kwargs)


def get_admin_context(request_id=None):
    """A context for the system's own work (periodics, reconciliation)."""
    kwargs = {'is_admin': True, 'user_id': 'orchestrator',
              'project_id': 'orchestrator', 'overwrite': False}
    if request_id:
        kwargs['request_id'] = request_id
    return RequestContext(**kwargs)


def from_store(values):
    """A context from the dict a flow keeps in its store."""
    return RequestContext.from_dict(values or {}, overwrite=False)

"""The request context: who asks, for which project, under which request id.

It crosses every boundary as a plain dict (:meth:`RequestContext.to_dict`):
over RPC through :class:`orchestrator.rpc.ContextSerializer`, into a
flow's store (kept in the logbook and the job's details), and into an
accepted request (``instance_actions.pending_request``). That dict never
holds the caller's token (:data:`SECRET_KEYS`): nothing past the API
calls another service with it, and a store is kept for ever.
"""

from oslo_context import context as oslo_context


#: Context values that are secrets: never in :meth:`RequestContext.to_dict`.
SECRET_KEYS = ('auth_token', 'auth_token_info')


class RequestContext(oslo_context.RequestContext):
    """oslo.context's context; ``is_admin`` decides admin-only actions."""

    def to_dict(self):
        """oslo.context's dict without the token (:data:`SECRET_KEYS`)."""
        values = super().to_dict()
        values['is_admin'] = self.is_admin
        for key in SECRET_KEYS:
            values.pop(key, None)
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

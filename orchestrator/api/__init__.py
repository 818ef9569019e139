"""The HTTP API: a subset of the OpenStack Compute API v2.1, and a
Glance-v2-shaped image list under ``/image``.

:func:`orchestrator.api.app.build_app` builds the WSGI application;
:mod:`orchestrator.api.wsgi` holds a module-level ``application`` for WSGI
servers. One module per resource registers its routes on the
:class:`orchestrator.api.router.Router`.
"""

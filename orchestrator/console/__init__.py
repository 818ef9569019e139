"""The web console: its single page (``static/``, served at ``/console/``
by :mod:`orchestrator.console.assets`) and its data, the JSON API under
``/console/api`` (routes in :mod:`orchestrator.console.api`, registered
on the Compute API's router) with the pages' views it serves: servers,
flows (with their composition tree), hosts and the state rules."""

"""The web console's data: the JSON API under ``/console/api`` (routes in
:mod:`orchestrator.console.api`, registered on the Compute API's router)
and the pages' views it serves: servers, flows (with their composition
tree), hosts and the state rules."""

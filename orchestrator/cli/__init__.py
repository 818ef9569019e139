"""The ``orchestrator`` user CLI, one module a concern.

* :mod:`.exits`: exit codes and the errors that map onto them;
* :mod:`.config`: where the API is and who calls it (clouds.yaml or the
  ``ORCHESTRATOR_*`` environment);
* :mod:`.api`: HTTP requests to the Compute API and the console API;
* :mod:`.output`: tables and JSON;
* :mod:`.flowtree`: a flow's steps as a rich tree;
* :mod:`.waiting`: what ``--wait`` polls and when an operation ended;
* :mod:`.progress`: the live display of a wait;
* :mod:`.waits`: ``--wait`` / ``--timeout`` and what an accepted request
  prints;
* :mod:`.servers`, :mod:`.server_actions`, :mod:`.flows`: the commands;
* :mod:`.main`: the parser and the entry point.
"""

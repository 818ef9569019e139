"""Every operation on a server, as a TaskFlow flow (one module each).

A flow module defines ``FLOW_NAME`` (persisted: chosen once),
``RESUME_POLICY`` (what a conductor does with it after a crash) and a
module-level ``get_flow()`` factory that the logbook records by import
path. Renaming a module, a factory or a task orphans flows in flight.
"""

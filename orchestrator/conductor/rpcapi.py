"""Client side of the conductor RPC API (topic ``conductor``).

Used by the API service (to start operations) and by compute agents (to
report heartbeats and progress). Operation starters are ``call``s: the API
learns whether the job was posted. Reports from hosts are ``cast``s.

API version history:

* 1.0 - build_instance, delete_instance, cleanup_instance,
  report_heartbeat, report_progress
* 1.1 - start_action
* 1.2 - start_action takes ``params`` (the action's arguments, e.g. the
  image of a rebuild); report_power_states
* 1.3 - build_instance takes ``params`` (the build's placement request:
  ``requested_host``)
* 1.4 - abort_live_migration, report_migration_progress
"""

import oslo_messaging as messaging
from oslo_config import cfg

from orchestrator import rpc

TOPIC = 'conductor'
#: Methods ask for the version that introduced them; VERSION caps them.
BASE_VERSION = '1.0'
VERSION = '1.4'


class ConductorAPI:
    """Calls to any conductor (the broker picks one)."""

    def __init__(self, timeout=None):
        target = messaging.Target(topic=TOPIC, version=BASE_VERSION)
        self._client = rpc.get_client(
            target, version_cap=VERSION,
            timeout=timeout or cfg.CONF.conductor_rpc_timeout_s)

    def build_instance(self, ctxt, instance_uuid, task_id, action_id,
                       params=None):
        """Post the boot flow of a claimed (building) instance.
        ``params`` is a JSON-safe dict of placement requests
        (``requested_host``; 1.3: a build without them still asks for
        1.0). Returns the job's uuid. Repeating it posts no second
        job."""
        kwargs = dict(instance_uuid=instance_uuid, task_id=task_id,
                      action_id=action_id)
        version = BASE_VERSION
        if params:
            kwargs['params'] = params
            version = '1.3'
        return self._client.prepare(version=version).call(
            ctxt, 'build_instance', **kwargs)

    def delete_instance(self, ctxt, instance_uuid, task_id, action_id):
        """Post the delete flow of an instance claimed for deleting."""
        return self._client.call(ctxt, 'delete_instance',
                                 instance_uuid=instance_uuid,
                                 task_id=task_id, action_id=action_id)

    def start_action(self, ctxt, operation, instance_uuid, task_id,
                     action_id, params=None):
        """Post the flow of ``operation`` (an action name of
        :data:`orchestrator.state_machine.ACTIONS` with a flow, e.g.
        'stop') for an instance the API claimed for it. ``params`` is a
        JSON-safe dict of the action's arguments (1.2; an action without
        arguments still asks for 1.1). Returns the job's uuid."""
        kwargs = dict(operation=operation, instance_uuid=instance_uuid,
                      task_id=task_id, action_id=action_id)
        version = '1.1'
        if params:
            kwargs['params'] = params
            version = '1.2'
        return self._client.prepare(version=version).call(
            ctxt, 'start_action', **kwargs)

    def cleanup_instance(self, ctxt, instance_uuid, host, action_id):
        """Post the host-side cleanup after a force delete."""
        return self._client.call(ctxt, 'cleanup_instance',
                                 instance_uuid=instance_uuid, host=host,
                                 action_id=action_id)

    def report_heartbeat(self, ctxt, host, binary, resources, wait=False,
                         timeout=None):
        """A host is alive; ``resources`` is its capacity
        ({'vcpus', 'memory_mb', 'local_gb', 'hypervisor_type'}) and its
        'availability_zone' (absent from agents before it: the zone
        is left as it was). A cast, or with ``wait`` a call that returns
        once a conductor recorded it (a host's first report, repeated
        until acknowledged; raises MessagingTimeout after ``timeout``)."""
        if wait:
            self._client.prepare(timeout=timeout).call(
                ctxt, 'report_heartbeat', host=host, binary=binary,
                resources=resources)
            return
        self._client.cast(ctxt, 'report_heartbeat', host=host,
                          binary=binary, resources=resources)

    def report_progress(self, ctxt, instance_uuid, task_id, progress):
        """Progress (0-100) of the task ``task_id``; dropped if that task
        no longer owns the instance."""
        self._client.cast(ctxt, 'report_progress',
                          instance_uuid=instance_uuid, task_id=task_id,
                          progress=progress)

    def report_power_states(self, ctxt, host, power_states):
        """What ``host`` sees: ``{instance uuid: power_state}`` of every
        guest on it (1.2). The conductor reconciles the database with it
        (:mod:`orchestrator.conductor.power_sync`); a report is a
        snapshot, so a lost or repeated one is harmless."""
        self._client.prepare(version='1.2').cast(
            ctxt, 'report_power_states', host=host,
            power_states=power_states)

    def abort_live_migration(self, ctxt, instance_uuid, migration_uuid):
        """Relay an abort to the source host of a live migration (1.4).

        The abort is already recorded (the migration is cancelled) when
        this is sent; the relay only stops the memory copy sooner, so it
        is a cast and a lost one costs time, not correctness."""
        self._client.prepare(version='1.4').cast(
            ctxt, 'abort_live_migration', instance_uuid=instance_uuid,
            migration_uuid=migration_uuid)

    def report_migration_progress(self, ctxt, instance_uuid, task_id,
                                  migration_uuid, memory_total,
                                  memory_processed, memory_remaining):
        """Progress of live migration ``migration_uuid`` (bytes, 1.4):
        written into the migration while it runs, and into the instance's
        progress while ``task_id`` owns it; dropped otherwise."""
        self._client.prepare(version='1.4').cast(
            ctxt, 'report_migration_progress', instance_uuid=instance_uuid,
            task_id=task_id, migration_uuid=migration_uuid,
            memory_total=memory_total, memory_processed=memory_processed,
            memory_remaining=memory_remaining)

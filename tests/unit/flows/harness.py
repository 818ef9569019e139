"""What the per-step tests share: a world of real parts, a way to call a
step as an engine would, a snapshot of everything a step may change, and
the contract every step is held to (:func:`contract_tests`).

A step is called with the arguments its ``rebind`` (execute) and
``revert_rebind`` (revert) name, taken from a store built as the flow's
would be (context, instance_uuid, task_id, action_id, params, and what
the steps before it provided, made by running those steps for real).
"""

import dataclasses
import typing
import uuid

import pytest
import sqlalchemy as sa
from taskflow import retry
from taskflow.types import failure as tf_failure

from orchestrator import context as orch_context
from orchestrator import exception
from orchestrator import state_machine
from orchestrator import states
from orchestrator.compute.drivers import fake_faults
from orchestrator.db import allocations
from orchestrator.db import catalog
from orchestrator.db import instances as db_instances
from orchestrator.db import migration_records
from orchestrator.db import models
from orchestrator.db import session
from orchestrator.scheduler import host_selection

from tests.unit.api import conftest as api_fixtures

#: Where a case keeps the history a retry controller is given.
HISTORY = '_history'
#: Roles of the module's compute hosts.
HOSTS = ('src', 'dst', 'spare')
SRC, DST, SPARE = HOSTS
CIRROS = catalog.DEFAULT_IMAGES[0][0]
DEBIAN = catalog.DEFAULT_IMAGES[1][0]

#: vm_state of a new instance -> the power operation its guest gets.
_POWER_OF = {states.STOPPED: 'power_off', states.PAUSED: 'pause',
             states.SUSPENDED: 'suspend', states.SHELVED: 'power_off'}
_POWER_STATE_OF = {states.STOPPED: states.SHUTDOWN,
                   states.SHELVED: states.SHUTDOWN,
                   states.PAUSED: states.POWER_PAUSED,
                   states.SUSPENDED: states.POWER_SUSPENDED}


def force_row(instance_uuid, **values):
    """Write instance columns as a crash or another service could leave
    them (no transition rule applies)."""
    with session.writer() as s:
        s.execute(sa.update(models.Instance).where(
            models.Instance.uuid == instance_uuid).values(**values))


@dataclasses.dataclass
class Case:
    """One instance under one claim, and the store its flow would have."""

    world: 'World'
    store: dict
    images: list = dataclasses.field(default_factory=list)

    @property
    def uuid(self):
        return self.store['instance_uuid']

    @property
    def task_id(self):
        return self.store['task_id']

    @property
    def params(self):
        return self.store.setdefault('params', {})

    def row(self):
        return db_instances.get(self.uuid, read_deleted=True)

    def guest(self, role):
        return self.world.host_state(role)['guests'].get(self.uuid)

    def migration(self):
        return migration_records.get(self.params['migration_uuid'])

    def allocations(self):
        return sorted((a['consumer_uuid'], a['host'])
                      for a in allocations.list_for_instance(self.uuid))

    def preempt(self):
        """Another task takes the instance (a delete, a reset)."""
        force_row(self.uuid, task_id=str(uuid.uuid4()))


class World:
    """The module's database, transport and fake hosts (see conftest)."""

    def __init__(self, conf, names, drivers, state_dir):
        self.conf = conf
        self.names = names
        self.drivers = drivers
        self.state_dir = state_dir

    def host(self, role):
        return self.names[role]

    def role_of(self, host):
        return {v: k for k, v in self.names.items()}[host]

    def host_state(self, role):
        return self.drivers[role].host_state()

    def calls(self, role, method):
        return self.host_state(role)['calls'].get(method, 0)

    def inject(self, role, methods, fault='raise', when='after'):
        """The next calls of the driver method(s) ``methods`` on ``role``
        fail (by default after the host did its work: the caller never
        learns it succeeded)."""
        if isinstance(methods, str):
            methods = (methods,)
        fake_faults.write_runtime_faults(
            self.state_dir, self.host(role),
            {m: {'fault': fault, 'when': when} for m in methods})

    def forget_guests(self):
        """Empty the host files of what the last test made (each write
        of a host file rewrites it whole: kept small, the module stays
        fast); the call counters stay."""
        for driver in self.drivers.values():
            with driver.host_file.change() as state:
                for key in ('guests', 'networks', 'block_devices',
                            'snapshots', 'aborted_migrations'):
                    state[key].clear()
                for entry in state['image_cache'].values():
                    entry['users'].clear()

    def clear_faults(self):
        for host in self.names.values():
            fake_faults.write_runtime_faults(self.state_dir, host, None)

    @staticmethod
    def context_dict():
        return orch_context.RequestContext(
            user_id=api_fixtures.USER, project_id=api_fixtures.PROJECT,
            is_admin=True, request_id='req-%s' % uuid.uuid4(),
            overwrite=False).to_dict()

    def new_instance(self, vm_state=states.ACTIVE, role=SRC, guest=True,
                     **values):
        """An instance on ``role``'s host in ``vm_state``, holding its
        flavor there, with a guest in the matching power state (made on
        the host through RPC) unless ``guest`` is False."""
        host = self.host(role) if role else None
        instance = api_fixtures.make_instance(states.ACTIVE, host=host,
                                              **values)
        power = _POWER_STATE_OF.get(vm_state, states.RUNNING)
        if host and guest:
            # Made through the host's driver: the setup is not under test
            # (the steps' own calls go through RPC).
            driver = self.drivers[role]
            payload = _payload(instance)
            driver.prepare_networks(payload)
            driver.prepare_block_devices(payload)
            image = catalog.image_get(instance['image_ref'])
            image = {'id': image['id'], 'name': image['name'],
                     'size': image['size']}
            driver.fetch_image(payload, image, lambda percent: None)
            driver.spawn(payload, image)
            if vm_state in _POWER_OF:
                driver.set_power_state(payload, _POWER_OF[vm_state])
        if host:
            allocations.reinstate(instance['uuid'], instance['uuid'], host,
                                  host_selection.resources_of(instance))
        force_row(instance['uuid'], vm_state=vm_state,
                  power_state=power if host and guest else states.NOSTATE)
        return db_instances.get(instance['uuid'])

    def claim(self, instance, action, params=None, **store):
        """The claim of ``action`` (its task_state, a fresh task_id on
        the row, written as the API's claim would, without its checks),
        and the store of its flow."""
        task_id = str(uuid.uuid4())
        force_row(instance['uuid'], task_id=task_id,
                  task_state=state_machine.get_action(action).task_state)
        values = {'context': self.context_dict(),
                  'instance_uuid': instance['uuid'], 'task_id': task_id,
                  'action_id': 1, 'params': dict(params or {})}
        values.update(store)
        return Case(self, values)

    def case(self, action, vm_state=states.ACTIVE, role=SRC, guest=True,
             params=None, instance_values=None, **store):
        """A new instance (:meth:`new_instance`) claimed for ``action``."""
        instance = self.new_instance(vm_state, role, guest,
                                     **(instance_values or {}))
        return self.claim(instance, action, params, **store)

    def snapshot(self, case):
        """Everything a step may change, for this instance."""
        uuid_ = case.uuid
        row = dict(case.row())
        # Bookkeeping: when the row was written, and the watchdog's
        # deadline, which a step that sets its task_state again restarts.
        row.pop('updated_at', None)
        row.pop('task_deadline_at', None)
        with session.reader() as s:
            faults = s.execute(sa.select(sa.func.count()).select_from(
                models.InstanceFault).where(
                    models.InstanceFault.instance_uuid == uuid_)).scalar()
        migrations = [dict(m) for m in
                      migration_records.list_(instance_uuid=uuid_)]
        for m in migrations:
            m.pop('updated_at', None)
        snap = {'instance': row, 'faults': faults,
                'allocations': sorted(
                    (a['consumer_uuid'], a['host'], a['vcpus'],
                     a['memory_mb'], a['disk_gb'])
                    for a in allocations.list_for_instance(uuid_)),
                'migrations': sorted(migrations, key=lambda m: m['uuid']),
                'images': [_image_or_none(i) for i in case.images]}
        for role in HOSTS:
            state = self.host_state(role)
            guest = state['guests'].get(uuid_)
            snap['host:' + role] = {
                # A mark cleared (None) is the same as one never set. The
                # console log is what the guest printed, a history: a
                # revert does not unprint it, and a re-run may print again.
                'guest': None if guest is None else {
                    k: v for k, v in guest.items()
                    if v is not None and k != 'console'},
                'networks': state['networks'].get(uuid_),
                'disks': state['block_devices'].get(uuid_),
                'cache': sorted(i for i, e in state['image_cache'].items()
                                if uuid_ in e['users']),
                'snapshots': {k: v for k, v in state['snapshots'].items()
                              if v.get('instance_uuid') == uuid_},
                'aborted': sorted(state['aborted_migrations'])}
        return snap


def _image_or_none(image_id):
    try:
        image = dict(catalog.image_get(image_id))
    except exception.ImageNotFound:
        return None
    image.pop('updated_at', None)
    return image


def _payload(instance):
    from orchestrator.compute import rpcapi
    return rpcapi.instance_payload(instance)


# -- calling a step as the engine does ---------------------------------------

def _provide(task, store, result):
    for name, index in task.save_as.items():
        store[name] = result if index is None else result[index]


def execute(task, case):
    """Run ``task.execute`` with its arguments from the case's store;
    what it provides goes into the store."""
    kwargs = {arg: case.store[key] for arg, key in task.rebind.items()
              if key in case.store or arg not in task.optional}
    if isinstance(task, retry.Retry):
        kwargs['history'] = case.store.get(HISTORY, retry.History([]))
    result = task.execute(**kwargs)
    _provide(task, case.store, result)
    return result


def run_steps(case, *tasks):
    """Run the steps a flow runs before the one under test."""
    for task in tasks:
        execute(task, case)
    return case


def steps_before(first, steps):
    """``up_to(step, *args)`` -> a setup: ``first(env, *args)``, then the
    flow's ``steps`` before ``step`` run for real."""
    def up_to(step, *args):
        def setup(env):
            return run_steps(first(env, *args),
                             *(s() for s in steps[:steps.index(step)]))
        return setup
    return up_to


def add_migration(env, case, kind, status, source=SRC, dest=None):
    """The migration record the API made for the case's flow (its uuid
    goes into params)."""
    case.params['migration_uuid'] = migration_records.create(
        case.uuid, kind, status, env.host(source),
        dest_compute=dest and env.host(dest),
        migration_uuid=str(uuid.uuid4()))['uuid']
    return case


def failure(exc=None):
    """A TaskFlow Failure, as the engine hands it to reverts."""
    exc = exc or exception.InjectedFault(method='test', host='test')
    try:
        raise exc
    except Exception:  # noqa: BLE001
        return tf_failure.Failure()


def revert(task, case, result=None, flow_failures=None):
    """Run ``task.revert`` as the engine does: its arguments from the
    store, ``result`` (the execute's result or Failure) and the flow's
    failures."""
    kwargs = {arg: case.store[key]
              for arg, key in task.revert_rebind.items()
              if key in case.store or arg not in task.revert_optional}
    if flow_failures is None:
        flow_failures = {task.name: result} if isinstance(
            result, tf_failure.Failure) else {}
    if isinstance(task, retry.Retry):
        # A retry's revert gets its history and the flow's failures.
        return task.revert(
            history=case.store.get(HISTORY, retry.History([])),
            flow_failures=flow_failures, **kwargs)
    return task.revert(result=result, flow_failures=flow_failures, **kwargs)


# -- the contract -------------------------------------------------------------

#: Sections of a snapshot outside the instance row.
WORLD_SECTIONS = ('allocations', 'migrations', 'images') + tuple(
    'host:' + role for role in HOSTS)
#: ``undone`` of a step without revert: its revert changes nothing.
NO_REVERT = 'no-revert'


@dataclasses.dataclass
class Step:
    """One step's contract, for :func:`contract_tests`.

    :param make: a new task object, as the flow builds it.
    :param setup: ``setup(world)`` -> a Case in the state the flow is in
        before the step (earlier steps run for real).
    :param check: ``check(world, case, result)``: what execute did.
    :param undone: the snapshot sections a revert after a successful
        execute puts back as they were before it, or :data:`NO_REVERT`
        (the step declares none: its revert must change nothing).
    :param fault: ``fault(case)`` -> (role, driver method) whose call,
        failing after the host did its work, makes execute fail part way
        (None: the step makes no host call).
    :param after_revert: ``after_revert(world, case, before)``: more
        checks after a revert that followed a successful execute.
    :param bare_revert_changes: sections a revert may write when execute
        never ran (a sentinel ends the task: instance and faults).
    """

    id: str
    make: typing.Callable
    setup: typing.Callable
    check: typing.Callable
    undone: typing.Any = WORLD_SECTIONS
    fault: typing.Callable = None
    after_revert: typing.Callable = None
    bare_revert_changes: tuple = ()
    #: False when a re-run may return another value (a destroy says
    #: whether there was a guest) that no step consumes.
    same_result: bool = True
    #: False for a step that holds no claim, or acts on purpose without
    #: it (said why where it is set); True: under a lost claim execute
    #: raises Preempted and changes nothing anywhere.
    claim_checked: bool = True
    #: Instance columns a re-run may move, as the step documents (a
    #: timestamp it writes anew).
    rerun_moves: tuple = ()
    xfail: dict = dataclasses.field(default_factory=dict)

    def param(self, test):
        marks = ()
        if test in self.xfail:
            marks = (pytest.mark.xfail(strict=True,
                                       reason=self.xfail[test]),)
        return pytest.param(self, id=self.id, marks=marks)


def returns(expected):
    """A ``check`` that the step returned ``expected``."""
    def check(env, case, result):
        assert result == expected
    return check


def _same(before, after, sections):
    for section in sections:
        assert after[section] == before[section], section


def _params(steps, test, only=None):
    return [s.param(test) for s in steps if only is None or only(s)]


def contract_tests(steps):
    """The tests every step of ``steps`` gets, by name (a test module
    does ``globals().update(contract_tests(STEPS))``):

    execute, execute twice (converges: same snapshot, same result), revert
    after execute (undone), revert twice (idempotent), revert when execute
    failed before acting (nothing changed), revert after execute failed
    part way (the host acted, the step never learnt it: undone), execute
    again after it failed part way (converges to what one run does),
    execute under a lost claim (Preempted, nothing changed).
    """

    @pytest.mark.parametrize('step', _params(steps, 'execute'))
    def test_execute(env, step):
        case = step.setup(env)
        step.check(env, case, execute(step.make(), case))

    @pytest.mark.parametrize('step', _params(steps, 'rerun'))
    def test_execute_rerun_converges(env, step):
        case = step.setup(env)
        first = execute(step.make(), case)
        once = env.snapshot(case)
        again = execute(step.make(), case)
        twice = env.snapshot(case)
        for column in step.rerun_moves:
            assert twice['instance'][column] >= once['instance'][column]
            once['instance'].pop(column)
            twice['instance'].pop(column)
        assert twice == once
        if step.same_result:
            assert again == first
        step.check(env, case, again)

    @pytest.mark.parametrize('step', _params(steps, 'revert'))
    def test_revert_after_execute(env, step):
        case = step.setup(env)
        before = env.snapshot(case)
        result = execute(step.make(), case)
        after = env.snapshot(case)
        revert(step.make(), case, result)
        now = env.snapshot(case)
        if step.undone == NO_REVERT:
            assert now == after
        else:
            _same(before, now, step.undone)
        if step.after_revert is not None:
            step.after_revert(env, case, before)

    @pytest.mark.parametrize('step', _params(steps, 'revert_rerun'))
    def test_revert_rerun_is_idempotent(env, step):
        case = step.setup(env)
        result = execute(step.make(), case)
        revert(step.make(), case, result)
        once = env.snapshot(case)
        revert(step.make(), case, result)
        assert env.snapshot(case) == once

    @pytest.mark.parametrize('step', _params(steps, 'bare_revert'))
    def test_revert_when_execute_never_acted(env, step):
        case = step.setup(env)
        before = env.snapshot(case)
        revert(step.make(), case, failure())
        now = env.snapshot(case)
        _same(before, now, [k for k in now
                            if k not in step.bare_revert_changes])

    @pytest.mark.parametrize('step', _params(
        steps, 'lost_claim', lambda s: s.claim_checked))
    def test_execute_under_a_lost_claim_changes_nothing(env, step):
        case = step.setup(env)
        case.preempt()
        before = env.snapshot(case)
        with pytest.raises(exception.Preempted):
            execute(step.make(), case)
        assert env.snapshot(case) == before

    def with_fault(s):
        return s.fault is not None

    @pytest.mark.parametrize('step', _params(steps, 'partial_revert',
                                             with_fault))
    def test_revert_after_partial_execute(env, step):
        case = step.setup(env)
        before = env.snapshot(case)
        role, method = step.fault(case)
        env.inject(role, method)
        with pytest.raises(exception.InjectedFault):
            execute(step.make(), case)
        assert env.calls(role, method if isinstance(method, str)
                         else method[0]) > 0
        env.clear_faults()
        bad = failure()
        revert(step.make(), case, bad)
        now = env.snapshot(case)
        if step.undone != NO_REVERT:
            _same(before, now, step.undone)
        revert(step.make(), case, bad)
        assert env.snapshot(case) == now

    @pytest.mark.parametrize('step', _params(steps, 'partial_rerun',
                                             with_fault))
    def test_rerun_after_partial_execute(env, step):
        case = step.setup(env)
        role, method = step.fault(case)
        env.inject(role, method)
        with pytest.raises(exception.InjectedFault):
            execute(step.make(), case)
        env.clear_faults()
        step.check(env, case, execute(step.make(), case))

    tests = {t.__name__: t for t in (
        test_execute, test_execute_rerun_converges,
        test_revert_after_execute, test_revert_rerun_is_idempotent,
        test_revert_when_execute_never_acted)}
    if any(s.claim_checked for s in steps):
        tests[test_execute_under_a_lost_claim_changes_nothing.__name__] = (
            test_execute_under_a_lost_claim_changes_nothing)
    if any(with_fault(s) for s in steps):
        tests.update({t.__name__: t for t in (
            test_revert_after_partial_execute,
            test_rerun_after_partial_execute)})
    return tests

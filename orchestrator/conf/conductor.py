"""[conductor] options: job running, leases and periodic tasks."""

from oslo_config import cfg
from oslo_config import types

from orchestrator import states

#: Deadlines of the task_states that may take long by nature (copying a
#: disk or a guest's memory, uploading an image), in seconds.
SLOW_TASK_DEADLINES_S = {
    states.SPAWNING: 3600.0,
    states.REBUILD_SPAWNING: 3600.0,
    states.IMAGE_UPLOADING: 3600.0,
    states.MIGRATING: 3600.0,
    states.RESIZE_MIGRATING: 3600.0,
}


class TaskDeadlines(types.Dict):
    """A ``task_state:seconds`` dict whose keys must be task_states.

    Returns ``{task_state: float seconds}``; raises ValueError naming the
    unknown task_states (or the non-positive seconds) otherwise. Accepts
    the option's string form and a dict (defaults, ``set_override``).
    """

    def __init__(self):
        super().__init__(value_type=types.Float(),
                         type_name='task_state:seconds values')

    def __call__(self, value):
        parsed = super().__call__(value)
        unknown = sorted(set(parsed) - states.TASK_STATES)
        if unknown:
            raise ValueError('unknown task_state(s) %s; task_states are: %s'
                             % (', '.join(unknown),
                                ', '.join(sorted(states.TASK_STATES))))
        out = {}
        for task_state, seconds in parsed.items():
            seconds = float(seconds)
            if not seconds > 0:
                raise ValueError('deadline of %s must be more than 0 '
                                 'seconds, not %r' % (task_state, seconds))
            out[task_state] = seconds
        return out

    def __repr__(self):
        return 'TaskDeadlines'


class TaskDeadlinesOpt(cfg.DictOpt):
    """A DictOpt (so the sample shows its default as a dict) of type
    :class:`TaskDeadlines`."""

    def __init__(self, name, **kwargs):
        cfg.Opt.__init__(self, name, type=TaskDeadlines(), **kwargs)


group = cfg.OptGroup('conductor', title='Conductor service')

opts = [
    cfg.IntOpt('max_simultaneous_jobs', default=16, min=1,
               help='Most jobs (flows) one conductor runs at once.'),
    cfg.IntOpt('engine_workers', default=4, min=1,
               help='Threads of each flow engine (parallel engine).'),
    cfg.FloatOpt('claim_lease_s', default=30.0, min=1.0,
                 help='A job claim lasts this long unless renewed; a '
                      'conductor that dies loses its jobs after it.'),
    cfg.FloatOpt('lease_renew_interval_s', default=5.0, min=0.1,
                 help='How often a conductor renews the claims of the jobs '
                      'it runs. Must be well under claim_lease_s.'),
    cfg.FloatOpt('job_poll_interval_s', default=0.5, min=0.05,
                 help='How long the conductor waits for new jobs between '
                      'looks at the jobboard.'),
    cfg.FloatOpt('soft_reboot_timeout_s', default=60.0, min=0.1,
                 help='A soft reboot that has not finished after this '
                      'many seconds becomes a hard reboot.'),
    cfg.IntOpt('heartbeat_check_interval_s', default=10, min=1,
               help='How often the conductor looks for hosts that went '
                    'down.'),
    cfg.FloatOpt('default_task_deadline_s', default=900.0, min=0.1,
                 help='How long an instance may stay in one task_state '
                      'whose deadline task_deadlines_s does not set. Past '
                      'it the deadline watchdog decides: the task is '
                      'reverted (the guest is as vm_state says) or the '
                      'instance goes to error, with a fault.'),
    TaskDeadlinesOpt('task_deadlines_s', default=SLOW_TASK_DEADLINES_S,
                     help='Deadlines of single task_states, as '
                          'task_state:seconds pairs, overriding '
                          'default_task_deadline_s (setting this option '
                          'replaces the whole default list). Unknown '
                          'task_state names are refused.'),
    cfg.FloatOpt('reclaim_check_interval_s', default=60.0,
                 help='How often a conductor deletes for good the servers '
                      'soft-deleted longer ago than [DEFAULT] '
                      'reclaim_instance_interval_s. Less than 0 disables '
                      'it.'),
    cfg.FloatOpt('shelved_poll_interval_s', default=3600.0,
                 help='How often a conductor offloads the servers shelved '
                      'longer ago than [DEFAULT] shelved_offload_time '
                      '(when it is > 0), and deletes the shelved images '
                      'deleted servers still name (a crash during a force '
                      'delete). Less than 0 disables it.'),
    cfg.FloatOpt('auto_confirm_interval_s', default=60.0,
                 help='How often a conductor confirms the resizes and cold '
                      'migrations waiting longer than [DEFAULT] '
                      'resize_confirm_window_s. Less than 0 disables it.'),
    cfg.FloatOpt('evacuation_check_interval_s', default=30.0,
                 help='How often a conductor completes evacuations whose '
                      'source host is up again: the leftover guest there '
                      'is destroyed and the resources it held released. '
                      'Less than 0 disables it.'),
    cfg.FloatOpt('deadline_check_interval_s', default=10.0,
                 help='How often the deadline watchdog looks for instances '
                      'past their task deadline. Less than 0 disables it.'),
    cfg.FloatOpt('accepted_check_interval_s', default=10.0,
                 help='How often a conductor looks for accepted requests '
                      'whose job was never posted (the API or a conductor '
                      'died between the claim and the post) and posts '
                      'them, or gives back a claim nothing can post. Less '
                      'than 0 disables it.'),
    cfg.FloatOpt('accepted_grace_s', default=60.0, min=0.0,
                 help='How old an accepted request must be before the '
                      'check above takes it over; keep it above [DEFAULT] '
                      'conductor_rpc_timeout_s, so a request the API is '
                      'still handing over is left to it.'),
    cfg.FloatOpt('deadline_host_timeout_s', default=10.0, min=0.1,
                 help='How long the deadline watchdog waits for a host to '
                      'report a guest\'s power state; a host that does not '
                      'answer in time sends the instance to error.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}

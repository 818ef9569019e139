"""[fake_driver] options: delays and fault injection for tests and demos."""

from oslo_config import cfg

group = cfg.OptGroup('fake_driver', title='Fake virt driver')

opts = [
    cfg.DictOpt('delays_s', default={},
                help='Seconds each driver method sleeps before acting, as '
                     'method:seconds pairs, e.g. spawn:2,fetch_image:5.'),
    cfg.DictOpt('faults', default={},
                help='Faults to inject, as method:fault pairs; fault is '
                     '"raise" (the method fails with InjectedFault), '
                     '"hang" (it returns only when the agent stops) or '
                     '"crash" (the process exits at once, like kill -9). '
                     'A file <host>.faults.json in the fake hosts\' state '
                     'directory (<state_path>/fake-hosts) overrides these '
                     'per method at run time; see orchestrator.compute.'
                     'drivers.fake_faults for its format.'),
    cfg.IntOpt('image_fetch_steps', default=4, min=1,
               help='Progress reports one image download makes.'),
    cfg.IntOpt('live_migration_steps', default=4, min=1,
               help='Steps (progress reports, and looks for an abort) in '
                    'which a live migration copies a guest\'s memory.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}

"""The console log of a fake guest: what a serial console would have
printed, kept in the guest's record in the host file (``console``, a
list of lines, the last :data:`MAX_LINES` of them).

The fake driver writes lines when the guest boots (spawn, power on,
reboots, rebuild, rescue, a migration's arrival), powers down, pauses or
resumes, so ``os-getConsoleOutput`` shows a real history of the guest.
"""

import datetime

#: Lines a guest keeps; older ones drop off, as a rotated console log.
MAX_LINES = 200


def _stamp():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        '%Y-%m-%dT%H:%M:%S')


def write(guest, *lines):
    """Append ``lines`` to ``guest``'s console, keeping the last
    :data:`MAX_LINES`."""
    console = guest.setdefault('console', [])
    stamp = _stamp()
    console.extend('[%s] %s' % (stamp, line) for line in lines)
    del console[:-MAX_LINES]


def boot(guest, instance, why):
    """The lines of a guest booting (``why``: what started it)."""
    name = instance.get('hostname') or instance.get('display_name') or \
        instance.get('uuid')
    write(guest, why,
          'Linux version 6.1.0-fake (orchestrator fake driver)',
          'Command line: root=/dev/vda console=ttyS0',
          'Memory: %sMB, CPUs: %s' % (guest.get('memory_mb'),
                                      guest.get('vcpus')),
          'Reached target Multi-User System.',
          '%s login: ' % name)


#: Power operation -> the console's words for it (boots are added for
#: those that start the guest).
_POWER_LINES = {
    'power_off': 'reboot: Power down',
    'power_on': 'Power on',
    'pause': 'Guest paused (vCPUs stopped)',
    'unpause': 'Guest unpaused',
    'suspend': 'PM: suspend entry (deep)',
    'resume': 'PM: resume from suspend',
    'reboot': 'reboot: Restarting system',
    'reboot_hard': 'Hard reset',
}
_BOOTING = frozenset(['power_on', 'reboot', 'reboot_hard'])


def power(guest, instance, operation):
    """The lines of power ``operation`` on ``guest``."""
    line = _POWER_LINES.get(operation, operation)
    if operation in _BOOTING:
        boot(guest, instance, line)
    else:
        write(guest, line)


def output(guest, length=None):
    """The console text, its last ``length`` lines when given (None: all
    that is kept), lines joined by newlines (none after the last, as
    Nova's tail of a log: ``length=3`` is three lines)."""
    lines = guest.get('console') or []
    if length is not None:
        lines = lines[-length:] if length > 0 else []
    return '\n'.join(lines)

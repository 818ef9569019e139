"""Measuring what boot and delete cycles leave behind in one process.

:func:`cycle` boots a server and deletes it through the conductor's RPC
API (as the API does, without HTTP), waiting for each to settle;
:func:`sample` measures the process: its threads (in total and by name,
digits folded so that pool workers count as one name), its resident set
size from ``/proc/self/statm``, and the number of TaskFlow table sets
(``MetaData`` objects holding TaskFlow's ``logbooks`` table) alive after
a full garbage collection, once the thread count held still for a
second (the last flow's job and engine pool end a moment after its
instance settles; 10 s at most). Shared by tests/functional/test_leaks.py and
benchmarks/leak_check.py.
"""

import collections
import gc
import os
import re
import threading
import time

import sqlalchemy as sa

from tests.functional import test_boot_delete as boot_delete
from tests.waiting import wait_for

Sample = collections.namedtuple('Sample', 'threads by_name rss_mb tables')


def cycle():
    """Boot one server and delete it, each waited for (60 s at most)."""
    inst = boot_delete.boot()
    wait_for(lambda: boot_delete.stable(inst['uuid']), timeout=60,
             what='boot of %s' % inst['uuid'])
    boot_delete.delete(inst['uuid'])
    done = wait_for(lambda: boot_delete.stable(inst['uuid']), timeout=60,
                    what='delete of %s' % inst['uuid'])
    assert done['vm_state'] == 'deleted', done


def rss_mb():
    """This process's resident set size in MiB."""
    with open('/proc/self/statm') as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf('SC_PAGE_SIZE') / 2.0 ** 20


def thread_names():
    """Counter of live threads by name, digits folded to N."""
    return collections.Counter(re.sub(r'\d+', 'N', t.name)
                               for t in threading.enumerate())


def taskflow_table_sets():
    """TaskFlow table sets (MetaData with a 'logbooks' table) alive."""
    return sum(1 for o in gc.get_objects()
               if isinstance(o, sa.MetaData) and 'logbooks' in o.tables)


def settle(still_s=1.0, timeout=10.0):
    """Wait until the thread count held still for ``still_s``."""
    deadline = time.monotonic() + timeout
    count, since = threading.active_count(), time.monotonic()
    while time.monotonic() - since < still_s < deadline - time.monotonic():
        time.sleep(0.1)
        if threading.active_count() != count:
            count, since = threading.active_count(), time.monotonic()


def sample():
    """A :class:`Sample` of this process, settled, after a full
    collection."""
    settle()
    gc.collect()
    return Sample(threading.active_count(), thread_names(), rss_mb(),
                  taskflow_table_sets())

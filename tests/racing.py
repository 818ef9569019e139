"""Racing helper shared by the quota tests: many calls released at once,
while another thread watches what they must never pass."""

import threading


def race(call, count, sample):
    """Run ``call(i)`` in ``count`` threads released together, while one
    more thread takes ``sample()`` (the usage) without pause until they
    all ended.

    :returns: (a result or the exception raised, per thread; the samples
        taken, the last one after every thread ended).
    """
    barrier = threading.Barrier(count)
    outcomes = [None] * count
    samples = []
    done = threading.Event()

    def run(i):
        barrier.wait(timeout=60)
        try:
            outcomes[i] = call(i)
        except Exception as e:  # noqa: BLE001 - returned to the test
            outcomes[i] = e

    def watch():
        while not done.is_set():
            samples.append(sample())

    watcher = threading.Thread(target=watch)
    watcher.start()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    done.set()
    watcher.join()
    assert not any(t.is_alive() for t in threads), 'a call hung'
    samples.append(sample())
    return outcomes, samples

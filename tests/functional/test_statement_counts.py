"""The exact number of SQL statements, commits and rollbacks of one boot
and one delete (issue 11, "Performance", item c), per category: TaskFlow's
logbook tables, the SQL jobboard's ``jobs`` table, our other tables, and
``other`` (statements naming no table: the ``BEGIN``/``BEGIN IMMEDIATE``
of each transaction, savepoints). See :mod:`benchmarks.sql_counts` for
how statements and transaction ends are classified.

A change that adds or removes statements on these paths fails this test
on purpose: look at the difference, and if it is wanted regenerate the
table below with::

    .venv/bin/python -m benchmarks.sql_counts

and paste the ``EXPECTED = {...}`` it prints.

Determinism, by construction rather than by luck: everything that
touches the database by time instead of per operation is silenced before
the all-in-one starts (:data:`benchmarks.sql_counts.QUIET_OPTIONS`: the
hosts' heartbeats and power-state reports, the conductor's heartbeat,
its periodic tasks, its lease renewals and its polling of the jobboard;
the conductor is woken when this process posts a job or a flow ends);
waiting for a flow to end reads the database through a second engine
that is not counted; one warm-up boot and delete is not counted (the
image gets cached on the host); an operation ends once its flow ended
and the counted engine has been quiet for a moment.
"""

import pytest

from benchmarks import sql_counts

pytestmark = pytest.mark.timeout(120)

#: (statements, commits, rollbacks) per category; ``total`` statements
#: exclude ``other`` (BEGINs are counted by their commits and rollbacks).
EXPECTED = {
    'boot': {
        'logbook':  (39, 18, 4),
        'jobboard': (6, 3, 3),
        'ours':     (75, 26, 13),
        'other':    (53, 0, 0),
        'total':    (120, 33, 20),
    },
    'delete': {
        'logbook':  (36, 16, 4),
        'jobboard': (6, 3, 3),
        'ours':     (44, 18, 9),
        'other':    (41, 0, 0),
        'total':    (86, 25, 16),
    },
}


def _as_table(counts):
    """{category: {field: n}} as {category: (statements, commits,
    rollbacks)}."""
    return {category: tuple(fields[f] for f in sql_counts.FIELDS)
            for category, fields in counts.items()}


def _varied(ranges):
    """[(category, field, (min, max))] of the counts that varied."""
    return [(category, field, span)
            for category, fields in ranges.items()
            for field, span in fields.items() if span[0] != span[1]]


def test_statements_commits_rollbacks_per_boot_and_delete(conf):
    result = sql_counts.measure(operations=2, conf=conf)
    table = sql_counts.format_table(result)
    for operation in ('boot', 'delete'):
        varied = _varied(result['ranges'][operation])
        assert not varied, ('counts of %s varied between operations: %s\n%s'
                            % (operation, varied, table))
    found = {op: _as_table(result[op]) for op in ('boot', 'delete')}
    assert found == EXPECTED, (
        'SQL counts changed; if intended, regenerate EXPECTED with '
        '`python -m benchmarks.sql_counts`:\n%s\n\n%s'
        % (table, sql_counts.expected_table(result)))

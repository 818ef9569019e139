"""Figures from repeated measurements: medians of interleaved rounds with
their min and max, percentiles of latency samples."""

import statistics


def percentile(samples, fraction):
    """The ``fraction`` (0..1) percentile of ``samples`` (nearest rank);
    None for no samples."""
    if not samples:
        return None
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1,
                      int(round(fraction * len(ordered) + 0.5)) - 1))
    return ordered[rank]


def summary(values):
    """{'median', 'min', 'max', 'rounds'} of one figure's round values."""
    values = [v for v in values if v is not None]
    if not values:
        return {'median': None, 'min': None, 'max': None, 'rounds': 0}
    return {'median': statistics.median(values), 'min': min(values),
            'max': max(values), 'rounds': len(values)}


def interleaved(rounds, measures):
    """Run every measure of ``measures`` ({name: callable returning a
    dict of figures}) once per round, in turn (a round runs them all, so
    a slow phase of the machine touches every measure alike); returns
    {name: {figure: summary}}."""
    collected = {name: {} for name in measures}
    for _ in range(rounds):
        for name, measure in measures.items():
            for figure, value in measure().items():
                collected[name].setdefault(figure, []).append(value)
    return {name: {figure: summary(values)
                   for figure, values in figures.items()}
            for name, figures in collected.items()}

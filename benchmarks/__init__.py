"""Benchmarks of the orchestrator (issue 11): ``make bench`` runs them
all and prints one table; ``make bench-smoke`` runs a short version.
Each module measures one thing and returns rows for :mod:`.report`."""

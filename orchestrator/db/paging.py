"""Marker paging of newest-first lists (ordered by id, descending)."""

import sqlalchemy as sa


def older_than_marker(s, query, model, where, not_found):
    """``query`` restricted to rows older than the newest row of
    ``model`` matching ``where`` (the marker: the last row of the
    previous page).

    :param where: SQL conditions naming the marker row.
    :param not_found: called (an exception to raise) when none matches.
    """
    mark = s.execute(sa.select(sa.func.max(model.id)).where(*where)
                     ).scalar()
    if mark is None:
        raise not_found()
    return query.where(model.id < mark)

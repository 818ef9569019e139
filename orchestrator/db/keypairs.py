"""Keypairs (``key_pairs``): a user's, by name. Rows leave as dicts."""

from oslo_db import exception as db_exc
import sqlalchemy as sa

from orchestrator import exception
from orchestrator.db import models
from orchestrator.db import quotas as db_quotas
from orchestrator.db import session


class KeypairNotFound(exception.NotFound):
    msg_fmt = 'Keypair %(name)s not found for user %(user_id)s'


class KeypairExists(exception.Conflict):
    msg_fmt = "Key pair '%(name)s' already exists."


class KeypairLimitExceeded(exception.QuotaError):
    msg_fmt = 'Quota exceeded, too many key pairs.'


def create(user_id, name, public_key, fingerprint, key_type, limit):
    """Insert the keypair unless the user has one by that name (409) or
    already has ``limit`` keypairs (403; -1: unlimited)."""
    with session.writer() as s:
        if limit != db_quotas.UNLIMITED:
            count = s.execute(sa.select(sa.func.count()).select_from(
                models.KeyPair).where(
                    models.KeyPair.user_id == user_id)).scalar_one()
            if count >= limit:
                raise KeypairLimitExceeded()
        row = models.KeyPair(user_id=user_id, name=name,
                             public_key=public_key, fingerprint=fingerprint,
                             type=key_type)
        s.add(row)
        try:
            s.flush()
        except db_exc.DBDuplicateEntry:
            raise KeypairExists(name=name) from None
        return row.as_dict()


def get(user_id, name):
    """The user's keypair ``name``, or KeypairNotFound (404)."""
    with session.reader() as s:
        row = s.execute(sa.select(models.KeyPair).where(
            models.KeyPair.user_id == user_id,
            models.KeyPair.name == name)).scalar_one_or_none()
        if row is None:
            raise KeypairNotFound(name=name, user_id=user_id)
        return row.as_dict()


def list_for_user(user_id, limit=None, marker=None):
    """The user's keypairs by name; ``marker`` a name of theirs
    (KeypairNotFound if not)."""
    with session.reader() as s:
        q = sa.select(models.KeyPair).where(
            models.KeyPair.user_id == user_id)
        if marker is not None:
            if s.execute(sa.select(models.KeyPair.id).where(
                    models.KeyPair.user_id == user_id,
                    models.KeyPair.name == marker)).first() is None:
                raise KeypairNotFound(name=marker, user_id=user_id)
            q = q.where(models.KeyPair.name > marker)
        q = q.order_by(models.KeyPair.name)
        if limit is not None:
            q = q.limit(limit)
        return [r.as_dict() for r in s.execute(q).scalars()]


def delete(user_id, name):
    """Delete the user's keypair ``name`` (KeypairNotFound if none)."""
    with session.writer() as s:
        result = s.execute(sa.delete(models.KeyPair).where(
            models.KeyPair.user_id == user_id,
            models.KeyPair.name == name))
        if result.rowcount != 1:
            raise KeypairNotFound(name=name, user_id=user_id)

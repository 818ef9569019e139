"""Flavors and images, and the defaults every new database is seeded with.

Seeding is idempotent: ``db sync`` may run any number of times.
"""

import uuid as uuidlib

from oslo_db import exception as db_exc
import sqlalchemy as sa

from orchestrator import exception
from orchestrator.db import models
from orchestrator.db import quotas as db_quotas
from orchestrator.db import session

DEFAULT_FLAVORS = (
    # flavorid, name, vcpus, memory_mb, root_gb
    ('1', 'm1.tiny', 1, 512, 1),
    ('2', 'm1.small', 1, 2048, 20),
    ('3', 'm1.medium', 2, 4096, 40),
    ('4', 'm1.large', 4, 8192, 80),
)

# Fixed ids, so that docs and tests can name them.
DEFAULT_IMAGES = (
    ('a3b2f2a8-1f38-4c43-9b1e-2d8f6f3f0c11', 'cirros-0.6.2', 21430272),
    ('5e1c2a7e-8d8c-4b55-a8c5-8f0d1c0b3a22', 'debian-12', 346030080),
)


def seed_defaults():
    """Insert the default flavors and images that are missing."""
    with session.writer() as s:
        have = set(s.execute(sa.select(models.Flavor.flavorid)).scalars())
        for flavorid, name, vcpus, ram, disk in DEFAULT_FLAVORS:
            if flavorid not in have:
                s.add(models.Flavor(flavorid=flavorid, name=name,
                                    vcpus=vcpus, memory_mb=ram,
                                    root_gb=disk, ephemeral_gb=0, swap=0,
                                    rxtx_factor=1.0, is_public=True,
                                    disabled=False, extra_specs={}))
        have = set(s.execute(sa.select(models.Image.id)).scalars())
        for image_id, name, size in DEFAULT_IMAGES:
            if image_id not in have:
                s.add(models.Image(id=image_id, name=name, status='active',
                                   visibility='public', disk_format='qcow2',
                                   container_format='bare', size=size,
                                   min_disk=0, min_ram=0, protected=False,
                                   properties={}, deleted=False))


def _flavor_visible_to(query, project_id):
    """``query`` restricted to the flavors ``project_id`` may see: the
    public ones and those shared with it (None: no restriction)."""
    if project_id is None:
        return query
    return query.where(sa.or_(
        models.Flavor.is_public.is_(True),
        models.Flavor.flavorid.in_(
            sa.select(models.FlavorProject.flavor_id).where(
                models.FlavorProject.project_id == project_id))))


def flavor_get(flavorid, visible_to=None):
    """The flavor whose flavorid is ``flavorid``, or FlavorNotFound; with
    ``visible_to`` (a project id), a non-public flavor not shared with
    that project is not found either."""
    with session.reader() as s:
        row = s.execute(_flavor_visible_to(sa.select(models.Flavor).where(
            models.Flavor.flavorid == str(flavorid)), visible_to)
        ).scalar_one_or_none()
        if row is None:
            raise exception.FlavorNotFound(flavor_id=flavorid)
        return row.as_dict()


def flavor_list(is_public=True, min_ram=None, min_disk=None, limit=None,
                marker=None, project_id=None):
    """Flavors sorted by flavorid (Nova's default order), with paging.

    :param is_public: True, False, or None for both; True also lists the
        non-public flavors shared with ``project_id`` (as Nova).
    :raises FlavorNotFound: the marker names no flavor.
    """
    with session.reader() as s:
        q = sa.select(models.Flavor).where(
            models.Flavor.disabled.is_(False))
        if is_public:
            q = _flavor_visible_to(q, project_id) if project_id else \
                q.where(models.Flavor.is_public.is_(True))
        elif is_public is not None:
            q = q.where(models.Flavor.is_public.is_(False))
        if min_ram is not None:
            q = q.where(models.Flavor.memory_mb >= min_ram)
        if min_disk is not None:
            q = q.where(models.Flavor.root_gb >= min_disk)
        if marker is not None:
            mark = s.execute(sa.select(models.Flavor).where(
                models.Flavor.flavorid == str(marker))).scalar_one_or_none()
            if mark is None:
                raise exception.FlavorNotFound(flavor_id=marker)
            q = q.where(models.Flavor.flavorid > mark.flavorid)
        q = q.order_by(models.Flavor.flavorid)
        if limit is not None:
            q = q.limit(limit)
        return [r.as_dict() for r in s.execute(q).scalars()]


class FlavorExists(exception.Conflict):
    msg_fmt = 'Flavor with %(what)s %(value)s already exists.'


def flavor_create(values):
    """Insert a flavor (``values``: the columns); 409 when its name or
    flavorid is taken."""
    with session.writer() as s:
        for column, what in (('name', 'name'), ('flavorid', 'ID')):
            if s.execute(sa.select(models.Flavor.id).where(
                    getattr(models.Flavor, column) == values[column])
                    ).first() is not None:
                raise FlavorExists(what=what, value=values[column])
        row = models.Flavor(**values)
        s.add(row)
        try:
            s.flush()
        except db_exc.DBDuplicateEntry:
            raise FlavorExists(what='name or ID',
                               value=values['name']) from None
        return row.as_dict()


def flavor_update_description(flavorid, description):
    """Set the flavor's description; returns the flavor (FlavorNotFound
    if none)."""
    with session.writer() as s:
        row = s.execute(sa.select(models.Flavor).where(
            models.Flavor.flavorid == flavorid)).scalar_one_or_none()
        if row is None:
            raise exception.FlavorNotFound(flavor_id=flavorid)
        row.description = description
        s.flush()
        return row.as_dict()


def flavor_delete(flavorid):
    """Delete the flavor and its access list (FlavorNotFound if none);
    servers keep the copy they were built with."""
    with session.writer() as s:
        result = s.execute(sa.delete(models.Flavor).where(
            models.Flavor.flavorid == str(flavorid)))
        if result.rowcount != 1:
            raise exception.FlavorNotFound(flavor_id=flavorid)
        s.execute(sa.delete(models.FlavorProject).where(
            models.FlavorProject.flavor_id == str(flavorid)))


def _locked_flavor(s, flavorid):
    row = s.execute(sa.select(models.Flavor).where(
        models.Flavor.flavorid == str(flavorid)).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        raise exception.FlavorNotFound(flavor_id=flavorid)
    return row


def flavor_extra_specs_update(flavorid, specs):
    """Add or replace ``specs`` among the flavor's extra specs (under the
    row's lock: concurrent updates do not lose each other's keys);
    returns them all."""
    with session.writer() as s:
        row = _locked_flavor(s, flavorid)
        row.extra_specs = dict(row.extra_specs or {}, **specs)
        return dict(row.extra_specs)


class FlavorExtraSpecNotFound(exception.NotFound):
    msg_fmt = 'Flavor %(flavor_id)s has no extra specs with key %(key)s.'


def flavor_extra_spec_delete(flavorid, key):
    """Remove extra spec ``key`` (404 when the flavor has none)."""
    with session.writer() as s:
        row = _locked_flavor(s, flavorid)
        specs = dict(row.extra_specs or {})
        if key not in specs:
            raise FlavorExtraSpecNotFound(flavor_id=flavorid, key=key)
        del specs[key]
        row.extra_specs = specs


class FlavorAccessExists(exception.Conflict):
    msg_fmt = ('Flavor access already exists for flavor %(flavor_id)s and '
               'project %(project_id)s combination.')


class FlavorAccessNotFound(exception.NotFound):
    msg_fmt = ('Flavor access not found for %(flavor_id)s / '
               '%(project_id)s combination.')


def flavor_access_list(flavorid):
    """The projects the flavor is shared with, sorted."""
    with session.reader() as s:
        return list(s.execute(sa.select(models.FlavorProject.project_id)
                              .where(models.FlavorProject.flavor_id ==
                                     str(flavorid))
                              .order_by(models.FlavorProject.project_id))
                    .scalars())


def flavor_access_add(flavorid, project_id):
    """Share the (existing) flavor with ``project_id``; 409 if it is
    already."""
    try:
        with session.writer() as s:
            _locked_flavor(s, flavorid)
            s.add(models.FlavorProject(flavor_id=str(flavorid),
                                       project_id=project_id))
            s.flush()
    except db_exc.DBDuplicateEntry:
        raise FlavorAccessExists(flavor_id=flavorid,
                                 project_id=project_id) from None


def flavor_access_remove(flavorid, project_id):
    """Stop sharing the flavor with ``project_id``; 404 if it was not."""
    with session.writer() as s:
        result = s.execute(sa.delete(models.FlavorProject).where(
            models.FlavorProject.flavor_id == str(flavorid),
            models.FlavorProject.project_id == project_id))
        if result.rowcount != 1:
            raise FlavorAccessNotFound(flavor_id=flavorid,
                                       project_id=project_id)


def _visible_to(query, project_id):
    """``query`` restricted to the images ``project_id`` may see: every
    non-private image and its own private ones (None: no restriction)."""
    if project_id is None:
        return query
    return query.where(sa.or_(models.Image.visibility != 'private',
                              models.Image.owner == project_id))


def _live_image(s, image_id, visible_to):
    """The image's row in session ``s`` (see :func:`image_get`)."""
    row = s.execute(_visible_to(sa.select(models.Image).where(
        models.Image.id == image_id,
        models.Image.deleted.is_(False)), visible_to)
    ).scalar_one_or_none()
    if row is None:
        raise exception.ImageNotFound(image_id=image_id)
    return row


def image_get(image_id, visible_to=None):
    """The (not deleted) image, or ImageNotFound; with ``visible_to`` (a
    project id), a private image of another project is not found either.
    """
    with session.reader() as s:
        return _live_image(s, image_id, visible_to).as_dict()


def image_list(name=None, status=None, limit=None, marker=None,
               visible_to=None):
    """Images by creation order, optionally filtered by exact name/status
    and by what project ``visible_to`` may see (see :func:`image_get`)."""
    with session.reader() as s:
        q = _visible_to(sa.select(models.Image).where(
            models.Image.deleted.is_(False)), visible_to)
        if name is not None:
            q = q.where(models.Image.name == name)
        if status is not None:
            q = q.where(models.Image.status == status)
        if marker is not None:
            mark = s.execute(sa.select(models.Image).where(
                models.Image.id == marker)).scalar_one_or_none()
            if mark is None:
                raise exception.ImageNotFound(image_id=marker)
            q = q.where(sa.or_(
                models.Image.created_at > mark.created_at,
                sa.and_(models.Image.created_at == mark.created_at,
                        models.Image.id > mark.id)))
        q = q.order_by(models.Image.created_at, models.Image.id)
        if limit is not None:
            q = q.limit(limit)
        return [r.as_dict() for r in s.execute(q).scalars()]


def images_owned_by(owner, status=None):
    """The (not deleted) images of project ``owner``, optionally in one
    status, newest first (by creation time, then id)."""
    with session.reader() as s:
        q = sa.select(models.Image).where(models.Image.deleted.is_(False),
                                          models.Image.owner == owner)
        if status is not None:
            q = q.where(models.Image.status == status)
        q = q.order_by(models.Image.created_at.desc(),
                       models.Image.id.desc())
        return [r.as_dict() for r in s.execute(q).scalars()]


def image_create(name, status='queued', size=None, properties=None,
                 owner=None, image_id=None, visibility=None,
                 disk_format='qcow2', container_format='bare', min_disk=0,
                 min_ram=0, protected=False):
    """A new image (an owner's is private unless ``visibility`` says
    otherwise, one without owner public); ImageExists (409) when
    ``image_id`` is taken, by a deleted image too (as Glance)."""
    if visibility is None:
        visibility = 'private' if owner else 'public'
    try:
        with session.writer() as s:
            row = models.Image(
                id=image_id or str(uuidlib.uuid4()), name=name,
                status=status, visibility=visibility, owner=owner,
                disk_format=disk_format, container_format=container_format,
                size=size, min_disk=min_disk, min_ram=min_ram,
                protected=protected, properties=properties or {},
                deleted=False)
            s.add(row)
            s.flush()
            return row.as_dict()
    except db_exc.DBDuplicateEntry:
        raise exception.ImageExists(image_id=image_id) from None


def image_update(image_id, from_statuses, **values):
    """Write ``values`` to the image if its status is one of
    ``from_statuses``. Returns the image after the write, or None when it
    is gone or in another status (nothing written): an upload finishing
    after its image was deleted does not bring it back."""
    with session.writer() as s:
        result = s.execute(sa.update(models.Image).where(
            models.Image.id == image_id,
            models.Image.deleted.is_(False),
            models.Image.status.in_(sorted(from_statuses))).values(
                updated_at=models.utcnow(), **values))
        if result.rowcount != 1:
            return None
        return s.execute(sa.select(models.Image).where(
            models.Image.id == image_id)).scalar_one().as_dict()


def image_update_properties(image_id, change, counted=len, quota=None,
                            visible_to=None):
    """Apply ``change(properties) -> new properties`` to the (not
    deleted) image in one transaction: under ``quota`` (a
    :class:`orchestrator.db.quotas.Quota`, or None for no limit), whose
    project lock serializes concurrent changes, with ``counted(new)``
    items checked against ``metadata_items`` (403 above it). Returns the
    new properties; ImageNotFound as :func:`image_get`."""

    def work(s, check):
        row = _live_image(s, image_id, visible_to)
        properties = change(dict(row.properties or {}))
        check.items('metadata_items', counted(properties))
        s.execute(sa.update(models.Image).where(
            models.Image.id == image_id).values(
                properties=properties, updated_at=models.utcnow())
            .execution_options(synchronize_session=False))
        return properties
    return db_quotas.transaction(quota, work)


def image_delete(image_id):
    """Mark the image deleted (status 'deleted'). Returns True if it was
    there; deleting it again is a no-op returning False."""
    with session.writer() as s:
        result = s.execute(sa.update(models.Image).where(
            models.Image.id == image_id,
            models.Image.deleted.is_(False)).values(
                deleted=True, status='deleted',
                updated_at=models.utcnow()))
        return result.rowcount == 1

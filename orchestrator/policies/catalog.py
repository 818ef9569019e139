"""Rules of the catalog a server is built from: flavors and images.

Any authenticated caller may list and show flavors, as in Nova (no rule):
a non-public flavor only to administrators and the projects it is shared
with. Administrators create and delete flavors, set their extra specs
and share them; readers see the extra specs of the flavors they see.

Images follow Glance's visibility: a public image is seen by every
reader, a private one (a snapshot) only by its owner project and
administrators, and no one else may boot, rebuild or rescue from it.
"""

from orchestrator.policies import base

FLAVORS_NON_PUBLIC = 'os_compute_api:flavors:non_public'
FLAVORS_CREATE = 'os_compute_api:os-flavor-manage:create'
FLAVORS_DELETE = 'os_compute_api:os-flavor-manage:delete'
FLAVORS_UPDATE = 'os_compute_api:os-flavor-manage:update'
EXTRA_SPECS = 'os_compute_api:os-flavor-extra-specs:%s'
EXTRA_SPECS_INDEX = EXTRA_SPECS % 'index'
EXTRA_SPECS_SHOW = EXTRA_SPECS % 'show'
EXTRA_SPECS_CREATE = EXTRA_SPECS % 'create'
EXTRA_SPECS_UPDATE = EXTRA_SPECS % 'update'
EXTRA_SPECS_DELETE = EXTRA_SPECS % 'delete'
FLAVOR_ACCESS = 'os_compute_api:os-flavor-access'
FLAVOR_ACCESS_ADD = FLAVOR_ACCESS + ':add_tenant_access'
FLAVOR_ACCESS_REMOVE = FLAVOR_ACCESS + ':remove_tenant_access'
IMAGES_LIST = 'image:get_images'
IMAGES_SHOW = 'image:get_image'
IMAGES_DELETE = 'image:delete_image'
IMAGES_ALL_PROJECTS = 'image:get_images:all_projects'
IMAGES_CREATE = 'image:add_image'
IMAGES_PUBLICIZE = 'image:publicize_image'
IMAGES_UPLOAD = 'image:upload_image'
IMAGES_DOWNLOAD = 'image:download_image'
IMAGES_MODIFY = 'image:modify_image'

_SPECS = '/flavors/{flavor_id}/os-extra_specs'

rules = [
    base.refinement(FLAVORS_NON_PUBLIC, base.ADMIN,
              'List non-public flavors (is_public=false or none), and '
              'see every one (others see those shared with their '
              'project).',
              ('GET', '/flavors'), ('GET', '/flavors/detail'),
              ('GET', '/flavors/{flavor_id}')),
    base.rule(FLAVORS_CREATE, base.ADMIN, 'Create a flavor.',
              ('POST', '/flavors')),
    base.rule(FLAVORS_UPDATE, base.ADMIN,
              'Change a flavor\'s description (2.55+).',
              ('PUT', '/flavors/{flavor_id}')),
    base.rule(FLAVORS_DELETE, base.ADMIN, 'Delete a flavor.',
              ('DELETE', '/flavors/{flavor_id}')),
    base.rule(EXTRA_SPECS_INDEX, base.PROJECT_READER_OR_ADMIN,
              'List a flavor\'s extra specs.', ('GET', _SPECS)),
    base.rule(EXTRA_SPECS_SHOW, base.PROJECT_READER_OR_ADMIN,
              'Show one extra spec of a flavor.',
              ('GET', _SPECS + '/{key}')),
    base.rule(EXTRA_SPECS_CREATE, base.ADMIN,
              'Add or replace extra specs of a flavor.', ('POST', _SPECS)),
    base.rule(EXTRA_SPECS_UPDATE, base.ADMIN,
              'Set one extra spec of a flavor.', ('PUT', _SPECS + '/{key}')),
    base.rule(EXTRA_SPECS_DELETE, base.ADMIN,
              'Remove one extra spec of a flavor.',
              ('DELETE', _SPECS + '/{key}')),
    base.rule(FLAVOR_ACCESS, base.ADMIN,
              'List the projects a non-public flavor is shared with.',
              ('GET', '/flavors/{flavor_id}/os-flavor-access')),
    base.rule(FLAVOR_ACCESS_ADD, base.ADMIN,
              'Share a non-public flavor with a project.',
              ('POST', '/flavors/{flavor_id}/action (addTenantAccess)')),
    base.rule(FLAVOR_ACCESS_REMOVE, base.ADMIN,
              'Stop sharing a non-public flavor with a project.',
              ('POST', '/flavors/{flavor_id}/action (removeTenantAccess)')),
    base.rule(IMAGES_LIST, base.PROJECT_READER_OR_ADMIN,
              'List the images the caller\'s project may see.',
              ('GET', '/image/v2/images'), ('GET', '/images'),
              ('GET', '/images/detail')),
    base.rule(IMAGES_SHOW, base.PROJECT_READER_OR_ADMIN,
              'Show an image the caller\'s project may see.',
              ('GET', '/image/v2/images/{image_id}'),
              ('GET', '/image/v2/images/{image_id}/tasks'),
              ('GET', '/images/{image_id}'),
              ('GET', '/images/{image_id}/metadata'),
              ('GET', '/images/{image_id}/metadata/{key}')),
    base.rule(IMAGES_DELETE, base.PROJECT_MEMBER_OR_ADMIN,
              'Delete an image of the caller\'s project (a public image: '
              'administrators only), through the image service or the '
              'Compute API\'s image proxy (before microversion 2.36).',
              ('DELETE', '/image/v2/images/{image_id}'),
              ('DELETE', '/images/{image_id}')),
    base.rule(IMAGES_CREATE, base.PROJECT_MEMBER_OR_ADMIN,
              'Create an image (queued, private) in the caller\'s project.',
              ('POST', '/image/v2/images')),
    base.refinement(IMAGES_PUBLICIZE, base.ADMIN,
              'Create a public image.', ('POST', '/image/v2/images')),
    base.rule(IMAGES_UPLOAD, base.PROJECT_MEMBER_OR_ADMIN,
              'Upload the data of a queued image of the caller\'s project.',
              ('PUT', '/image/v2/images/{image_id}/file')),
    base.rule(IMAGES_DOWNLOAD, base.PROJECT_READER_OR_ADMIN,
              'Download the data of an image the caller\'s project may '
              'see.', ('GET', '/image/v2/images/{image_id}/file')),
    base.rule(IMAGES_MODIFY, base.PROJECT_MEMBER_OR_ADMIN,
              'Change an image of the caller\'s project (a public image: '
              'administrators only): its attributes and extra properties '
              'through the image service, its metadata through the '
              'Compute API\'s image metadata proxy (before microversion '
              '2.39).',
              ('PATCH', '/image/v2/images/{image_id}'),
              ('POST', '/images/{image_id}/metadata'),
              ('PUT', '/images/{image_id}/metadata'),
              ('PUT', '/images/{image_id}/metadata/{key}'),
              ('DELETE', '/images/{image_id}/metadata/{key}')),
    base.refinement(IMAGES_ALL_PROJECTS, base.ADMIN,
              'See and use every project\'s private images.',
              ('GET', '/image/v2/images'), ('POST', '/servers')),
]


def list_rules():
    return rules

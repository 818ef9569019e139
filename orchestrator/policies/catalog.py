"""Rules of the catalog a server is built from: flavors and images.

Any authenticated caller may list and show flavors, as in Nova (no rule);
only non-public ones are guarded. Images follow Glance's visibility: a
public image is seen by every reader, a private one (a snapshot) only by
its owner project and administrators, and no one else may boot, rebuild
or rescue from it.
"""

from orchestrator.policies import base

FLAVORS_NON_PUBLIC = 'os_compute_api:flavors:non_public'
IMAGES_LIST = 'image:get_images'
IMAGES_SHOW = 'image:get_image'
IMAGES_ALL_PROJECTS = 'image:get_images:all_projects'

rules = [
    base.refinement(FLAVORS_NON_PUBLIC, base.ADMIN,
              'List non-public flavors (is_public=false or none).',
              ('GET', '/flavors'), ('GET', '/flavors/detail')),
    base.rule(IMAGES_LIST, base.PROJECT_READER_OR_ADMIN,
              'List the images the caller\'s project may see.',
              ('GET', '/image/v2/images')),
    base.rule(IMAGES_SHOW, base.PROJECT_READER_OR_ADMIN,
              'Show an image the caller\'s project may see.',
              ('GET', '/image/v2/images/{image_id}')),
    base.refinement(IMAGES_ALL_PROJECTS, base.ADMIN,
              'See and use every project\'s private images.',
              ('GET', '/image/v2/images'), ('POST', '/servers')),
]


def list_rules():
    return rules

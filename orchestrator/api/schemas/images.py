"""Bodies of the image service (Glance v2's image schema, the parts this
service keeps): ``POST /image/v2/images``.

Extra properties are any other key with a string value (Glance's
``additionalProperties``). Read-only attributes (``status``, ``size``,
``checksum``...) are refused by the handler with 403, as Glance does,
before this schema runs.
"""

CONTAINER_FORMATS = ['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker',
                     'compressed']
DISK_FORMATS = ['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2',
                'vdi', 'iso', 'ploop']
#: Visibilities this service keeps: it has no image members, so neither
#: ``shared`` nor ``community``.
VISIBILITIES = ['private', 'public']

_NAME = {'type': ['string', 'null'], 'maxLength': 255}
_COUNT = {'type': 'integer', 'minimum': 0, 'maximum': 2 ** 31 - 1}

create = {
    'type': 'object',
    'properties': {
        'id': {'type': 'string', 'format': 'uuid'},
        'name': _NAME,
        'container_format': {'type': ['string', 'null'],
                             'enum': CONTAINER_FORMATS + [None]},
        'disk_format': {'type': ['string', 'null'],
                        'enum': DISK_FORMATS + [None]},
        'visibility': {'type': 'string', 'enum': VISIBILITIES},
        'min_ram': _COUNT,
        'min_disk': _COUNT,
        'protected': {'type': 'boolean'},
        'tags': {'type': 'array', 'maxItems': 128, 'uniqueItems': True,
                 'items': {'type': 'string', 'minLength': 1,
                           'maxLength': 255}},
    },
    'additionalProperties': {'type': 'string', 'maxLength': 65535},
}

#: Longest name of an extra property (Glance's column); draft 4 has no
#: ``propertyNames``: the handler checks it.
PROPERTY_NAME_MAX = 255

#: PATCH /image/v2/images/{id}: a JSON patch, in either of Glance's
#: media types: ``application/openstack-images-v2.1-json-patch`` (RFC
#: 6902, ``{"op": "replace", "path": "/name", "value": ...}``) or
#: ``...-v2.0-json-patch`` (``{"replace": "/name", "value": ...}``).
PATCH_OPS = ['add', 'replace', 'remove']
_PATH = {'type': 'string', 'pattern': '^/.', 'maxLength': 256}
patch_v2_1 = {
    'type': 'array', 'maxItems': 256,
    'items': {'type': 'object', 'required': ['op', 'path'],
              'properties': {'op': {'enum': PATCH_OPS}, 'path': _PATH,
                             'value': {}},
              'additionalProperties': False},
}
patch_v2_0 = {
    'type': 'array', 'maxItems': 256,
    'items': {'type': 'object', 'minProperties': 1,
              'properties': dict({op: _PATH for op in PATCH_OPS},
                                 value={}),
              'additionalProperties': False},
}

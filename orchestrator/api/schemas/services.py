"""os-services update bodies (Nova's schemas): the legacy ``PUT
/os-services/{enable,disable,disable-log-reason,force-down}`` name the
service by host and binary; from 2.53 ``PUT /os-services/{uuid}`` takes
the changes only."""

_NAME = {'type': 'string', 'minLength': 1, 'maxLength': 255}

#: enable, disable and disable-log-reason before 2.53.
update = {
    'type': 'object',
    'properties': {
        'host': _NAME,
        'binary': _NAME,
        'disabled_reason': _NAME,
    },
    'required': ['host', 'binary'],
    'additionalProperties': False,
}

#: the same from 2.11, force-down included.
update_v211 = {
    'type': 'object',
    'properties': dict(update['properties'],
                       forced_down={'type': 'boolean'}),
    'required': ['host', 'binary'],
    'additionalProperties': False,
}

#: PUT /os-services/{uuid} from 2.53.
update_v253 = {
    'type': 'object',
    'properties': {
        'status': {'type': 'string', 'enum': ['enabled', 'disabled']},
        'disabled_reason': _NAME,
        'forced_down': {'type': 'boolean'},
    },
    'additionalProperties': False,
}

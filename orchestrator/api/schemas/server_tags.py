"""Server tags (Nova's schemas): a tag is 1 to 60 characters without
'/' or ','; ``PUT /servers/{id}/tags`` takes at most 50."""

TAG = {'type': 'string', 'minLength': 1, 'maxLength': 60,
       'pattern': '^[^,/]*$'}

update_all = {
    'type': 'object',
    'properties': {'tags': {'type': 'array', 'items': TAG,
                            'maxItems': 50}},
    'required': ['tags'],
    'additionalProperties': False,
}

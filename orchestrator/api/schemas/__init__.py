"""jsonschema documents of request bodies, one module per resource."""

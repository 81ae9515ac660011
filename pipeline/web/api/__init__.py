"""The JSON API at `/api/v1`: one module per resource, composed by `app.build_api`."""

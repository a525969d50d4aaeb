"""Harbor's REST API: the client and the dynamic resources ``Registry``, ``Project``, ``ReplicationPolicy``.

One module per resource (registry.py, project.py, replication.py) on a small base (base.py, fields.py,
schema.py); the client in client.py, endpoint.py, transport.py and errors.py. docs/harbor-api.md has the map.
"""

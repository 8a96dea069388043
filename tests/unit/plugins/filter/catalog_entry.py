"""A service catalog entry for the catalog's tests."""


def svc(name="web", **fields):
    """A minimal valid service entry with ``fields`` added."""
    entry = {"name": name, "host": "jove", "image": "docker.io/library/nginx:1.27"}
    entry.update(fields)
    return entry

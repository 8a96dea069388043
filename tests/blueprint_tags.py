"""Reading Authentik's blueprint tags in tests as what they resolve to: a provider's key is an
integer, every other object's a UUID, an environment value a string. The tags met are kept
in TAGS (clear it before a read)."""

import uuid

import yaml


class TagLoader(yaml.SafeLoader):
    """A SafeLoader with constructors for !Find, !KeyOf and !Env."""


TAGS = []


def _find(loader, node):
    TAGS.append(("!Find", loader.construct_sequence(node, deep=True)))
    return str(uuid.uuid4())


def _key_of(loader, node):
    entry_id = loader.construct_scalar(node)
    TAGS.append(("!KeyOf", entry_id))
    return 7 if entry_id.startswith("provider-") else str(uuid.uuid4())


def _env(loader, node):
    TAGS.append(("!Env", loader.construct_scalar(node)))
    return "from-the-environment"


TagLoader.add_constructor("!Find", _find)
TagLoader.add_constructor("!KeyOf", _key_of)
TagLoader.add_constructor("!Env", _env)

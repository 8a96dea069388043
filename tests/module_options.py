"""A plugin's options as Ansible would give them, for unit tests of its pure logic: a module's
as AnsibleModule sees them, an inventory plugin's as its configuration file sets them."""

import pytest

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core before 2.19 has no template trust: every string is a template

    def trust_as_template(value):
        return value


class SpecCaptured(Exception):
    """Raised instead of building the AnsibleModule, carrying its argument spec."""


def argument_spec_of(module):
    """The argument spec ``module.main()`` builds, caught before AnsibleModule parses anything."""
    def capture(argument_spec, **kwargs):
        raise SpecCaptured(argument_spec)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, "AnsibleModule", capture)
        with pytest.raises(SpecCaptured) as caught:
            module.main()
    return caught.value.args[0]


def options_of(spec, **given):
    """Every option of ``spec`` at its default (None when it has none), with the given ones set."""
    params = {name: option.get("default") for name, option in spec.items()}
    unknown = set(given) - set(params)
    assert not unknown, "not options of the module: %s" % unknown
    params.update(given)
    return params


def trusted(value):
    """Mark the strings of an option as trusted templates, as Ansible does for a configuration file."""
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return {key: trusted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [trusted(item) for item in value]
    return value

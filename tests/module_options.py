"""A module's options as AnsibleModule would see them, for unit tests of its pure logic."""

import pytest


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

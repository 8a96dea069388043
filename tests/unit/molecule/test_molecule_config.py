"""The Molecule base config is valid for both drivers it offers: podman (the default) and docker.

Molecule expands ${HOMELAB_MOLECULE_DRIVER:-podman} in .config/molecule/config.yml before it reads
the YAML; each scenario's molecule.yml is merged on top and the result must pass Molecule's
schema and the chosen driver's (molecule-plugins), as `molecule test` checks it first.
"""

import pathlib

import pytest
import yaml
from molecule import interpolation, util
from molecule.model import schema_v3

ROOT = pathlib.Path(__file__).resolve().parents[3]
SCENARIOS = sorted(p.parent.name for p in ROOT.glob("molecule/*/molecule.yml"))


def config(scenario, env):
    """The configuration Molecule validates for ``scenario`` under ``env``."""
    merged = {}
    env = dict(env, MOLECULE_SCENARIO_NAME=scenario)  # one of the variables Molecule sets
    for path in (ROOT / ".config" / "molecule" / "config.yml", ROOT / "molecule" / scenario / "molecule.yml"):
        text = interpolation.Interpolator(interpolation.TemplateWithDefaults, env).interpolate(path.read_text(), None)
        merged = util.merge_dicts(merged, yaml.safe_load(text))
    return merged


def test_scenarios_are_found():
    assert {"podman", "service"} <= set(SCENARIOS)


def test_podman_is_the_default_driver():
    assert config("podman", {})["driver"]["name"] == "podman"
    assert config("podman", {})["platforms"] == config("podman", {"HOMELAB_MOLECULE_DRIVER": "podman"})["platforms"]


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("driver", ["podman", "docker"])
def test_the_config_is_valid_for_each_driver(scenario, driver):
    data = config(scenario, {"HOMELAB_MOLECULE_DRIVER": driver})
    assert data["driver"]["name"] == driver
    # Each scenario's instance has a name of its own: scenarios may run side by side.
    assert [platform["name"] for platform in data["platforms"]] == [f"instance-{scenario}"]
    assert schema_v3.validate(data) == []


@pytest.mark.parametrize(("driver", "own_key"), [("podman", "network"), ("docker", "networks")])
def test_each_driver_gets_its_own_platform_keys(driver, own_key):
    data = config("podman", {"HOMELAB_MOLECULE_DRIVER": driver})
    (platform,) = data["platforms"]
    assert platform["name"] == "instance-podman"
    assert own_key in platform
    # The other driver's keys would not pass this driver's schema: the check can fail.
    other = "docker" if driver == "podman" else "podman"
    mixed = dict(data, platforms=[dict(platform, **data["driver"]["platform_settings"][other])])
    assert schema_v3.validate(mixed) != []

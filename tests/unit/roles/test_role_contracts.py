"""Every role's meta/argument_specs.yml is its contract: defaults and README must agree.

Drift between the three is how a role grows an undocumented or unvalidated input.
"""

import pathlib

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
ROLES = sorted(p.parent.parent for p in ROOT.glob("roles/*/meta/argument_specs.yml"))


def load(path):
    return yaml.safe_load(path.read_text()) or {}


def test_every_role_has_an_argument_spec():
    roles = sorted(p.parent for p in ROOT.glob("roles/*/tasks/main.yml"))
    assert roles, "no roles found"
    missing = [r.parent.name for r in roles if not (r.parent / "meta" / "argument_specs.yml").is_file()]
    assert missing == []


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.name)
def test_defaults_are_declared_in_the_spec(role):
    options = load(role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
    defaults = load(role / "defaults" / "main.yml")
    undeclared = sorted(set(defaults) - set(options))
    assert undeclared == [], f"defaults without argument spec: {undeclared}"


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.name)
def test_spec_defaults_match_defaults_file(role):
    options = load(role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
    defaults = load(role / "defaults" / "main.yml")
    for name, option in options.items():
        if "default" in option:
            assert name in defaults, f"{name} has a spec default but no entry in defaults/main.yml"
            assert defaults[name] == option["default"], f"{name}: spec and defaults disagree"


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.name)
def test_readme_documents_every_option(role):
    options = load(role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
    readme = (role / "README.md").read_text()
    undocumented = sorted(name for name in options if f"`{name}`" not in readme)
    assert undocumented == [], f"README.md lacks {undocumented}"


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.name)
def test_role_variables_carry_the_role_prefix(role):
    # homelab_* are the homelab-wide inputs every role may read (the catalog, the domain).
    options = load(role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
    prefixes = (role.name + "_", "homelab_")
    assert [n for n in options if not n.startswith(prefixes)] == []


def test_homelab_wide_options_mean_the_same_in_every_role():
    # A homelab_* option read by several roles is one variable: one type, one default.
    seen = {}
    for role in ROLES:
        options = load(role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
        for name, option in options.items():
            if name.startswith("homelab_"):
                seen.setdefault(name, {})[role.name] = (option.get("type"), option.get("default"))
    assert seen["homelab_quadlet_dir"] == {"podman": ("path", "/etc/containers/systemd"),
                                           "service": ("path", "/etc/containers/systemd"),
                                           "update": ("path", "/etc/containers/systemd")}
    disagreeing = {name: roles for name, roles in seen.items() if len(set(roles.values())) > 1}
    assert disagreeing == {}


def tasks_of(path):
    """Every task of a task file, blocks opened."""
    for task in load(path) if isinstance(load(path), list) else []:
        yield task
        for key in ("block", "rescue", "always"):
            yield from (t for t in task.get(key, []))


def test_package_facts_are_gathered_once_per_run():
    # package_facts lists every package of the host, one round trip each time. Packages are
    # only added during a run, so a role asks again only when the facts an earlier role
    # gathered lack one it wants: each such task is conditioned on the facts' absence.
    gathering = [(path.relative_to(ROOT), task) for path in sorted(ROOT.glob("roles/*/tasks/*.yml"))
                 for task in tasks_of(path) if "ansible.builtin.package_facts" in task]
    assert {path.parts[1] for path, _task in gathering} >= {"podman", "backup", "monitoring", "tailscale"}
    unconditioned = [str(path) for path, task in gathering
                     if not any("ansible_facts.packages is not defined or " in condition
                                for condition in (task.get("when") if isinstance(task.get("when"), list)
                                                  else [task.get("when") or ""]))]
    assert unconditioned == []

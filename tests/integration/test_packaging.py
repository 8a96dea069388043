"""The collection builds, installs offline from its tarball, and documents itself.

Everything is checked against the installed copy, not the checkout, as a user gets it.
"""

import json
import os
import pathlib
import subprocess
import tarfile

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text())
PLUGIN_TYPES = {"modules": "module", "inventory": "inventory", "filter": "filter", "lookup": "lookup",
                "callback": "callback", "connection": "connection", "test": "test"}


def run(args, **kwargs):
    return subprocess.run(args, capture_output=True, text=True, timeout=300, check=False, **kwargs)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """Build the tarball and install it offline into a fresh collections path."""
    work = tmp_path_factory.mktemp("galaxy")
    build = run(["ansible-galaxy", "collection", "build", "--output-path", str(work), str(ROOT)])
    assert build.returncode == 0, build.stderr
    tarball = work / f"{GALAXY['namespace']}-{GALAXY['name']}-{GALAXY['version']}.tar.gz"
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(work / "collections"))
    install = run(["ansible-galaxy", "collection", "install", "--offline", "-p", str(work / "collections"),
                   str(tarball)], env=env)
    assert install.returncode == 0, install.stdout + install.stderr
    return tarball, env, work / "collections" / "ansible_collections" / "homelab" / "stack"


def test_tarball_holds_no_development_artefacts(installed):
    tarball, _env, _path = installed
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    forbidden = (".venv/", ".cache/", ".lab/", "tests/lab/", "molecule/", ".git/", ".ci/", "__pycache__", "examples/")
    assert [n for n in names if any(n.startswith(f) or f"/{f}" in n for f in forbidden)] == []
    assert "roles/podman/meta/argument_specs.yml" in names
    # The tests' helpers stay out too; ansible-test's ignore files (tests/sanity) go with the collection.
    assert [n for n in names if n.startswith("tests/") and n.endswith(".py")] == []


def test_installed_manifest_names_the_collection(installed):
    _tarball, _env, path = installed
    manifest = json.loads((path / "MANIFEST.json").read_text())["collection_info"]
    assert (manifest["namespace"], manifest["name"], manifest["version"]) == ("homelab", "stack", GALAXY["version"])
    assert set(manifest["dependencies"]) == set(GALAXY["dependencies"])


def rendered_docs(doc_type, names, env):
    """ansible-doc --json of ``names`` (all of type ``doc_type``): (the names it failed to
    render, the end of its error output)."""
    result = run(["ansible-doc", "-t", doc_type, "--json", *names], env=env)
    rendered = json.loads(result.stdout or "{}") if result.returncode == 0 else {}
    return [name for name in names if name not in rendered], result.stderr.strip()[-500:]


def test_ansible_doc_renders_every_plugin_and_role(installed):
    _tarball, env, path = installed
    entries = [("role", f"homelab.stack.{role.name}") for role in sorted((path / "roles").iterdir())
               if not role.name.startswith("_")]
    for folder, doc_type in PLUGIN_TYPES.items():
        for plugin in sorted((path / "plugins" / folder).glob("*.py")):
            if plugin.name != "__init__.py":
                entries.append((doc_type, f"homelab.stack.{plugin.stem}"))
    assert entries, "the collection documents nothing"
    # One ansible-doc per plugin type renders all its names (one start-up per name took
    # minutes); only when that fails is each name run alone, to name exactly the ones that fail.
    failures = {}
    for doc_type in sorted({doc_type for doc_type, _name in entries}):
        names = [name for entry_type, name in entries if entry_type == doc_type]
        if rendered_docs(doc_type, names, env)[0]:
            for name in names:
                failed, message = rendered_docs(doc_type, [name], env)
                if failed:
                    failures[name] = message
    assert failures == {}


def test_installed_playbook_resolves_its_roles(installed):
    tarball, env, _path = installed
    # Run from outside the checkout so that only the installed copy can answer.
    result = run(["ansible-playbook", "--syntax-check", "-i", "localhost,", "homelab.stack.site"], env=env,
                 cwd=tarball.parent)
    assert result.returncode == 0, result.stdout + result.stderr

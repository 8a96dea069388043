# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Configuration files written as YAML text by filters, from plain data.

Ansible hands filters its own subclasses of str, dict, list and int (tagged values), which
PyYAML's SafeDumper only knows by their exact types; ``Dumper`` knows them by their base
types, and other formats' dumpers (Authentik's blueprint tags) extend it.
"""

from __future__ import annotations

import yaml


class Dumper(yaml.SafeDumper):
    """SafeDumper that also writes Ansible's subclasses of the plain types."""


for _base, _represent in ((str, yaml.SafeDumper.represent_str), (dict, yaml.SafeDumper.represent_dict),
                          (list, yaml.SafeDumper.represent_list), (int, yaml.SafeDumper.represent_int)):
    Dumper.add_multi_representer(_base, _represent)


def dump(data, dumper=Dumper):
    """``data`` as block-style YAML text, keys in the order given."""
    return yaml.dump(data, Dumper=dumper, sort_keys=False, default_flow_style=False, allow_unicode=True)

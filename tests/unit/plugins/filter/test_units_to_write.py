"""Which units the service role writes: digests of the rendered units against the host's files.

The property that matters: the filter names a unit exactly when the quadlet module would
rewrite it, so skipping the module when the list is empty changes nothing. The host side
is read with service_info's own reader, the module side with the module's own Unit.
"""

import os

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.stack.plugins.module_utils.quadlet import render_unit, text_digest
from ansible_collections.homelab.stack.plugins.modules.quadlet import Unit
from ansible_collections.homelab.stack.plugins.modules.service_info import read_units
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog import (
    host_units,
    normalise_catalog,
    units_to_write,
)

CATALOG = normalise_catalog([
    {"name": "web", "host": "jove", "image": "localhost/app:1", "depends_on": ["db"],
     "env": {"GREETING": "hello $USER, 100% literal"}, "volumes": [{"name": "cache", "mount": "/cache"}]},
    {"name": "db", "host": "jove", "image": "localhost/db:1", "secrets": {"DB_PASSWORD": "s3cret"},
     "healthcheck": {"cmd": "pg_isready"}},
], ["jove"])
UNITS = host_units(CATALOG, "jove")
FILES = ["homelab.network", "web-cache.volume", "db.container", "web.container"]


def written(directory, mode=0o644):
    """The units as the module writes them: its own rendering, its default mode."""
    for unit in UNITS:
        path = os.path.join(directory, "%s.%s" % (unit["name"], unit["type"]))
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(Unit(str(directory), unit, "").desired)
        os.chmod(path, mode)
    return read_units(str(directory))


def module_would_write(directory, units=None):
    """The files the quadlet module, reading ``directory``, would rewrite for ``units``."""
    return [Unit(str(directory), unit, "").filename for unit in units or UNITS
            if Unit(str(directory), unit, "").content_changes]


def test_a_host_with_every_unit_as_rendered_needs_no_write(tmp_path):
    assert units_to_write(UNITS, written(tmp_path)) == []
    assert module_would_write(tmp_path) == []


def test_a_fresh_host_needs_every_unit_in_apply_order():
    assert units_to_write(UNITS, {}) == FILES


def test_a_changed_catalog_entry_names_exactly_its_unit(tmp_path):
    files = written(tmp_path)
    changed = host_units(normalise_catalog([dict(CATALOG[0], env={"GREETING": "hello again"}), CATALOG[1]],
                                           ["jove"]), "jove")
    assert units_to_write(changed, files) == ["web.container"]
    assert module_would_write(tmp_path, changed) == ["web.container"]


def test_an_edited_file_or_wrong_permissions_are_written_again(tmp_path):
    files = written(tmp_path)
    with open(tmp_path / "db.container", "a", encoding="utf-8") as handle:
        handle.write("# a local edit\n")
    os.chmod(tmp_path / "homelab.network", 0o600)
    files = read_units(str(tmp_path))
    assert units_to_write(UNITS, files) == ["homelab.network", "db.container"]
    assert module_would_write(tmp_path) == ["db.container"]  # the mode is the module's set_fs_attributes


def test_a_file_that_is_not_utf8_is_written_again(tmp_path):
    written(tmp_path)
    (tmp_path / "web-cache.volume").write_bytes(b"[Volume]\n\xff\n")
    assert units_to_write(UNITS, read_units(str(tmp_path))) == ["web-cache.volume"]


def test_a_unit_given_as_text_is_compared_as_the_module_writes_it():
    unit = {"name": "sleeper", "type": "container", "content": "[Container]\nImage=localhost/app:1"}
    files = {"sleeper.container": {"digest": text_digest("[Container]\nImage=localhost/app:1\n"), "mode": "0644"}}
    assert units_to_write([unit], files) == []
    structured = {"name": "sleeper", "type": "container", "spec": {"Image": "localhost/app:1"}}
    files = {"sleeper.container": {"digest": text_digest(render_unit("container", None, {"Image": "localhost/app:1"})),
                                   "mode": "0644"}}
    assert units_to_write([structured], files) == []


def test_a_unit_that_cannot_render_is_left_to_the_module_to_refuse():
    bad = {"name": "bad", "type": "container", "spec": {"Environment": {"K": "a\nb"}}}
    assert units_to_write([bad], {}) == ["bad.container"]


@pytest.mark.parametrize(("units", "files"), [("web", {}), (UNITS, []), (["web"], {})])
def test_bad_input_is_refused(units, files):
    with pytest.raises(AnsibleFilterError, match="units_to_write: "):
        units_to_write(units, files)

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Loki's configuration file: its structure (Loki cannot run here), through the filter."""

from __future__ import annotations

import pytest
import yaml

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.filter import loki_config as loki_config_plugin
from ansible_collections.homelab.stack.plugins.module_utils import loki

loki_config = loki_config_plugin.FilterModule().filters()["loki_config"]

# The top-level keys of Loki 3's configuration this file may use (its reference's blocks).
LOKI_BLOCKS = {"auth_enabled", "server", "common", "schema_config", "limits_config", "compactor", "analytics",
               "ingester", "querier", "query_range", "ruler", "storage_config", "distributor", "frontend"}


def config(**options):
    return yaml.safe_load(loki_config({}, **options))


def test_a_single_binary_without_tenants_on_port_3100():
    data = config()
    assert set(data) <= LOKI_BLOCKS
    assert data["auth_enabled"] is False
    assert data["server"]["http_listen_port"] == 3100
    assert data["common"]["replication_factor"] == 1
    assert data["common"]["ring"] == {"kvstore": {"store": "inmemory"}}
    assert data["analytics"] == {"reporting_enabled": False}


def test_everything_is_kept_under_the_data_directory_on_the_filesystem():
    data = config(data_dir="/var/loki")
    common = data["common"]
    assert common["path_prefix"] == "/var/loki"
    assert common["storage"] == {"filesystem": {"chunks_directory": "/var/loki/chunks",
                                                "rules_directory": "/var/loki/rules"}}
    assert data["compactor"]["working_directory"] == "/var/loki/compactor"


def test_one_schema_period_tsdb_v13_on_the_filesystem():
    (period,) = config()["schema_config"]["configs"]
    assert period == {"from": "2024-04-01", "store": "tsdb", "object_store": "filesystem", "schema": "v13",
                      "index": {"prefix": "index_", "period": "24h"}}
    # A string, as Loki parses it (YAML would otherwise make it a date).
    assert "from: '2024-04-01'" in loki_config({})


def test_retention_is_the_compactors_in_hours():
    data = config(retention="14d")
    assert data["limits_config"]["retention_period"] == "336h"
    assert data["compactor"]["retention_enabled"] is True
    assert data["compactor"]["delete_request_store"] == "filesystem"
    assert config()["limits_config"]["retention_period"] == "744h"
    assert config(retention="48h")["limits_config"]["retention_period"] == "48h"


def test_the_port_is_the_one_given():
    assert config(port=3200)["server"]["http_listen_port"] == 3200


@pytest.mark.parametrize(("options", "message"), [
    ({"retention": "36h"}, "loki_config: retention: '36h' is not a whole number of days"),
    ({"retention": "1w"}, "loki_config: retention: must be a duration in days or hours such as 31d or 744h, got '1w'"),
    ({"retention": "0d"}, "loki_config: retention: must be a duration in days or hours"),
    ({"retention": 30}, "loki_config: retention: must be a duration in days or hours"),
    ({"port": 0}, "loki_config: port: must be a port number (1-65535), got 0"),
    ({"port": "3100"}, "loki_config: port: must be a port number (1-65535), got '3100'"),
    ({"data_dir": "loki"}, "loki_config: data_dir: must be an absolute path without a trailing /, got 'loki'"),
    ({"data_dir": "/loki/"}, "loki_config: data_dir: must be an absolute path without a trailing /"),
])
def test_bad_input_names_the_field(options, message):
    with pytest.raises(AnsibleFilterError) as caught:
        loki_config({}, **options)
    assert str(caught.value).startswith(message)


def test_the_module_is_the_filters_source():
    assert yaml.safe_load(loki_config({})) == loki.loki_config()

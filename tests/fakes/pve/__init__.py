# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fake Proxmox VE API for tests, checked against the PVE 9.1 API schema.

The contract is ``tests/fixtures/pve-apidata-subset.json`` (proxmox/pve-docs
``api-viewer/apidata.js``, see PROVENANCE-pve.md). Every request is checked against it
the way pveproxy does it, in the same order:

1. path and method must be in the schema, else HTTP 501 ``Method 'GET /x' not implemented``;
2. the caller must be authenticated (API token header, or the ``PVEAuthCookie`` ticket
   cookie plus ``CSRFPreventionToken`` for writes), else HTTP 401;
3. the parameters (path, query and form/JSON body) must fit the method's schema, else
   HTTP 400 ``Parameter verification failed.`` with PVE's per-parameter ``errors``.

One concern per module:

- ``schema``: the API schema (the fixture plus ``EXTRA_SCHEMA``), parameter verification
  and the check of answers against a method's ``returns``;
- ``cluster``: the model (nodes, guests, pools) and ``make_cluster`` that generates one;
- ``config``: guest configs as qemu-server and pve-container store them (sizes, disks,
  NICs, tags, digests);
- ``tasks``: worker tasks, their UPIDs, and locks;
- ``api``: one request through PVE's pipeline; ``reads`` and ``writes``: the endpoints;
- ``server``: ``FakePVE`` (credentials, test controls) and its HTTP handler.

Usage::

    cluster = make_cluster(nodes=3, guests=30)
    with FakePVE(cluster, latency=0.02) as pve:
        requests.get(pve.url + "/api2/json/cluster/resources", headers=pve.token_header())
        pve.count("GET", "/cluster/resources")

    with FakePVE(make_cluster(nodes=2, guests=4, templates=2), task_seconds=0.01) as pve:
        upid = requests.post(pve.url + "/api2/json/nodes/pve1/qemu/104/clone", data={"newid": 200},
                             headers=pve.token_header()).json()["data"]
        pve.wait(upid)
        pve.guest_config(200)["scsi0"]  # 'local-lvm:base-104-disk-0/vm-200-disk-0,iothread=1,size=32G'
"""

from fakes.pve.api import ApiError
from fakes.pve.cluster import AGENT_FAULTS, Cluster, Guest, Node, guest_interfaces, make_cluster
from fakes.pve.config import config_digest, format_size, parse_size, split_list, unique_tags
from fakes.pve.schema import EXTRA_SCHEMA, SCHEMA_PATH, Schema, check_parameters, check_returns
from fakes.pve.server import API_PREFIX, PASSWORD, TOKEN_NAME, TOKEN_SECRET, USER, FakePVE

__all__ = [
    "AGENT_FAULTS", "API_PREFIX", "EXTRA_SCHEMA", "PASSWORD", "SCHEMA_PATH", "TOKEN_NAME", "TOKEN_SECRET", "USER",
    "ApiError", "Cluster", "FakePVE", "Guest", "Node", "Schema",
    "check_parameters", "check_returns", "config_digest", "format_size", "guest_interfaces", "make_cluster", "parse_size",
    "split_list", "unique_tags",
]

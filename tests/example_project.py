"""examples/dual-site for the tests: where it is, its demo age key, and the Proxmox VE and
tailnet its inventory sources read, answered by the fakes."""

import contextlib
import pathlib

from fakes.pve import TOKEN_NAME, TOKEN_SECRET, USER, FakePVE, Guest, Node, guest_interfaces
from fakes.pve.cluster import Cluster
from fakes.tailscale import API_KEY, FakeTailscale, make_device

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "dual-site"
DEMO_KEY_FILE = EXAMPLE / "demo-age-key.txt"


def demo_age_key():
    """The AGE-SECRET-KEY line of the demo key (what SOPS_AGE_KEY holds)."""
    return next(line for line in DEMO_KEY_FILE.read_text().splitlines() if line.startswith("AGE-SECRET-KEY-"))


@contextlib.contextmanager
def example_apis():
    """The Proxmox VE of site A, holding the two machines (tagged with their sites) and a stopped
    container, and the tailnet, holding both, a laptop and a phone; yields the environment
    variables the example's sources read their address and credentials from."""
    guests = [
        Guest(vmid=101, type="qemu", name="Jove", node="pve-jove", tags="site-a",
              interfaces=guest_interfaces(101, tailscale=True)),
        Guest(vmid=102, type="qemu", name="Kronos", node="pve-jove", tags="site-b",
              interfaces=guest_interfaces(102, tailscale=True)),
        Guest(vmid=110, type="lxc", name="scratch", node="pve-jove", status="stopped"),
    ]
    devices = [make_device("jove", tags=["tag:homelab"]), make_device("kronos", tags=["tag:homelab"]),
               make_device("laptop", os="macOS"), make_device("phone", os="android")]
    with FakeTailscale(devices) as tailnet:
        pve = FakePVE(Cluster("homelab", [Node("pve-jove", "192.168.10.2", 1)], guests, {})).start()
        try:
            yield {"PROXMOX_URL": pve.url, "PROXMOX_USER": USER, "PROXMOX_TOKEN_ID": TOKEN_NAME,
                   "PROXMOX_TOKEN_SECRET": TOKEN_SECRET, "PROXMOX_VALIDATE_CERTS": "false",
                   "TAILSCALE_API_URL": tailnet.url, "TAILSCALE_API_KEY": API_KEY}
        finally:
            pve.stop()

"""Inventory of a 1000-guest Proxmox VE cluster: homelab.stack.proxmox versus community.proxmox.

The fake Proxmox VE API of the tests (tests/fakes/pve/, checked against the PVE 9.1 API
schema) serves a cluster of 1000 guests on 10 nodes: 70 % running, 40 % containers, the
QEMU guest agent enabled in every VM, 20 ms per request like a real cluster over a LAN.
Each plugin then runs once as `ansible-inventory --list`, as a user would:

  homelab.stack.proxmox         default concurrency (8); then again from its cache
  community.proxmox.proxmox     without facts (no addresses), with want_facts: true, and
                                with facts_concurrency when the installed version has it

Prints one table (requests, wall seconds, hosts, hosts with ansible_host) and the speed-up
of homelab.stack.proxmox over community.proxmox with facts, checks the targets (at most
2 + running guests requests, at least 5x faster, 0 requests cached) and exits 1 when one
is missed. Takes about two minutes, almost all of it community.proxmox with facts.

Usage: .venv/bin/python benchmarks/proxmox_inventory.py [--guests 1000] [--nodes 10]
       [--latency 0.02] [--output FILE]
"""

import argparse
import json
import os
import pathlib
import platform
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
sys.path.insert(0, str(ROOT / "tests"))

from fakes.pve import TOKEN_SECRET, USER, FakePVE, make_cluster  # noqa: E402  pylint: disable=wrong-import-position


def env():
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PROXMOX_")}
    environment.update({
        "PATH": os.pathsep.join([str(BIN), environment.get("PATH", "")]),
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".cache" / "collections"),
        "ANSIBLE_INVENTORY_ENABLED": "auto",
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true",
    })
    return environment


def community_info():
    """(version, option names) of the community.proxmox inventory plugin installed with `ansible`."""
    listing = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "list", "community.proxmox", "--format", "json"],
                             capture_output=True, text=True, env=env(), check=True)
    version = next(iter(json.loads(listing.stdout).values()))["community.proxmox"]["version"]
    doc = subprocess.run([str(BIN / "ansible-doc"), "-t", "inventory", "--json", "community.proxmox.proxmox"],
                         capture_output=True, text=True, env=env(), check=True)
    options = json.loads(doc.stdout)["community.proxmox.proxmox"]["doc"]["options"]
    return version, set(options)


def write_source(directory, name, plugin, url, **options):
    config = {"plugin": plugin, "url": url, "user": USER, "token_id": "inventory", "token_secret": TOKEN_SECRET}
    config.update(options)
    path = directory / name
    path.write_text(json.dumps(config, indent=2))
    return path


def unwrap(value):
    """ansible-inventory's {"__ansible_unsafe": text} as text."""
    return value.get("__ansible_unsafe") if isinstance(value, dict) else value


def run(label, source, fake):
    """One `ansible-inventory --list`: the table row for it."""
    fake.reset()
    started = time.monotonic()
    result = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(source), "--list"], capture_output=True, text=True,
                            env=env(), timeout=1800, check=False)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        sys.exit("%s failed:\n%s" % (label, result.stderr[-3000:]))
    listing = json.loads(result.stdout)
    hostvars = listing["_meta"]["hostvars"]
    # Hosts without variables appear only in their groups, not in hostvars.
    hosts = set(hostvars).union(*(group.get("hosts", []) for name, group in listing.items() if name != "_meta"))
    with_host = sum(1 for variables in hostvars.values() if unwrap(variables.get("ansible_host")))
    refused = sum(1 for entry in fake.requests if entry["status"] in (400, 501))
    if refused:
        print("note: %s sent %d request(s) the API contract refuses" % (label, refused), file=sys.stderr)
    return {"plugin": label, "requests": fake.count(), "seconds": elapsed, "hosts": len(hosts), "with_host": with_host}


def table(rows):
    lines = ["%-58s %9s %9s %7s %19s" % ("plugin", "requests", "wall s", "hosts", "with ansible_host")]
    lines.append("-" * len(lines[0]))
    for row in rows:
        if row.get("skipped"):
            lines.append("%-58s %s" % (row["plugin"], row["skipped"]))
        else:
            lines.append("%-58s %9d %9.1f %7d %19d" % (row["plugin"], row["requests"], row["seconds"], row["hosts"], row["with_host"]))
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--guests", type=int, default=1000)
    parser.add_argument("--nodes", type=int, default=10)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per API request (default 0.02)")
    parser.add_argument("--output", help="also write the report to this file")
    args = parser.parse_args()

    version, options = community_info()
    cluster = make_cluster(nodes=args.nodes, guests=args.guests)
    running = sum(1 for guest in cluster.guests if cluster.status_of(guest) == "running")
    qemu = sum(1 for guest in cluster.guests if guest.type == "qemu")
    budget = 2 + running
    rows = []
    with tempfile.TemporaryDirectory(prefix="proxmox-bench-") as work, FakePVE(cluster, latency=args.latency) as fake:
        work = pathlib.Path(work)
        ours = write_source(work, "ours.proxmox.yml", "homelab.stack.proxmox", fake.url, cache=True,
                            cache_plugin="ansible.builtin.jsonfile", cache_connection=str(work / "cache"))
        rows.append(run("homelab.stack.proxmox (concurrency 8)", ours, fake))
        rows.append(run("homelab.stack.proxmox, cached", ours, fake))
        theirs = "community.proxmox.proxmox %s" % version
        plain = write_source(work, "plain.proxmox.yml", "community.proxmox.proxmox", fake.url)
        rows.append(run(theirs + " (no facts)", plain, fake))
        facts = write_source(work, "facts.proxmox.yml", "community.proxmox.proxmox", fake.url, want_facts=True)
        rows.append(run(theirs + " (want_facts)", facts, fake))
        if "facts_concurrency" in options:
            rows.append(run(theirs + " (want_facts, facts_concurrency 8)",
                            write_source(work, "concurrent.proxmox.yml", "community.proxmox.proxmox", fake.url,
                                         want_facts=True, facts_concurrency=8), fake))
        else:
            rows.append({"plugin": theirs + " (facts_concurrency)", "skipped": "option not in this version"})

    speedup = rows[3]["seconds"] / rows[0]["seconds"]
    checks = [
        ("homelab.stack.proxmox requests <= 2 + running guests (%d)" % budget, rows[0]["requests"] <= budget),
        ("at least 5x faster than community.proxmox with want_facts", speedup >= 5),
        ("cached run makes 0 requests", rows[1]["requests"] == 0),
    ]
    report = "\n".join([
        "Proxmox VE inventory benchmark (fake PVE 9.1 API, %d ms per request)" % round(args.latency * 1000),
        "cluster: %d guests on %d nodes, %d running, %d QEMU with the guest agent, %d LXC; Python %s, %s"
        % (args.guests, args.nodes, running, qemu, args.guests - qemu, platform.python_version(), time.strftime("%Y-%m-%d")),
        "",
        table(rows),
        "",
        "speed-up of homelab.stack.proxmox over community.proxmox with want_facts: %.1fx" % speedup,
        "",
    ] + ["%s: %s" % ("ok  " if passed else "MISS", text) for text, passed in checks])
    print(report)
    if args.output:
        pathlib.Path(args.output).write_text(report + "\n")
    return 0 if all(passed for _text, passed in checks) else 1


if __name__ == "__main__":
    sys.exit(main())

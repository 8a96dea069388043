"""Podman's own Quadlet test corpus against the real generator, through our validation.

Each case is validated the way the quadlet module validates a new unit. The generator
must accept the cases upstream expects to convert and reject those marked
`## assert-failed`; and a case re-rendered from its parsed sections by our renderer must
generate the same service as the original text.
"""

import os
import pathlib
import re
import shlex
import subprocess

import pytest

from quadlet_generator import GENERATOR, run_generator

from ansible_collections.homelab.stack.plugins.module_utils.quadlet import (
    UNIT_TYPES,
    QuadletError,
    parse_unit,
    render_unit,
    validate_units,
)

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fixtures" / "quadlet-e2e-cases"
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_file() and p.suffix[1:] in UNIT_TYPES)

# The corpus is from Podman 6.0-dev; the lab's generator is Podman 5.4. Keys added since
# are "unsupported" there, which is the generator doing its job for that version.
KEYS_NEWER_THAN_GENERATOR = {
    "AppArmor", "BuildArg", "NetworkDeleteOnStop", "HostName", "HttpProxy", "IgnoreFile",
    "InterfaceName", "Label", "Memory", "Policy", "ReloadCmd", "ReloadSignal", "Retry",
    "StopTimeout", "UID",
}
# Cases whose upstream expectation does not hold for this corpus layout or version.
KNOWN_DIFFERENCES = {
    # Upstream runs it alone, so basic.container is missing; here the corpus supplies it.
    "dependent.error.container": "accepted",
    # Checks added to the generator after Podman 5.4.
    "multiple-yaml-set-working-dir-yaml.kube": "accepted",
    "mount-options.volume": "rejected",
    # Modified upstream after 5.4; the 5.4 generator crashes on it (reported, not ours).
    "mount.container": "rejected",
    # Its expectation lives in upstream's Go driver, which is not part of the corpus.
    "no-workingdirectory-systemd-specifier.build": "rejected",
}


# Every test here needs the real generator (tests/integration/conftest.py).
pytestmark = pytest.mark.usefixtures("generator")


def outcome(generator, case, text=None):
    text = (CORPUS / case).read_text() if text is None else text
    try:
        return "accepted", validate_units(generator, str(CORPUS), {case: text}, run_generator)[case]
    except QuadletError as error:
        return "rejected", str(error)


@pytest.mark.parametrize("case", CASES)
def test_generator_verdict_matches_upstream(generator, case):
    expected = "rejected" if "## assert-failed" in (CORPUS / case).read_text() else "accepted"
    verdict, detail = outcome(generator, case)
    if case in KNOWN_DIFFERENCES:
        assert verdict == KNOWN_DIFFERENCES[case], detail
        return
    if verdict == "rejected" and expected == "accepted":
        newer = re.search(r"unsupported key '(\w+)'", detail)
        assert newer and newer.group(1) in KEYS_NEWER_THAN_GENERATOR, detail
        return
    assert verdict == expected, detail
    if verdict == "rejected":
        assert detail.startswith(case + ": "), "the error must name the unit"


def test_corpus_is_complete():
    assert len(CASES) > 300


def renderable(case):
    """Cases the re-render test can use: converted by this generator, and written with
    only the four sections the module renders (a few use Quadlet's own [Quadlet])."""
    text = (CORPUS / case).read_text()
    sections = parse_unit(text)
    keys = {key for options in sections.values() for key in options}
    return ("## assert-failed" not in text and case not in KNOWN_DIFFERENCES
            and not keys & KEYS_NEWER_THAN_GENERATOR
            and set(sections) <= {"Unit", UNIT_TYPES[case.rsplit(".", 1)[1]], "Service", "Install"})


RENDERABLE = [case for case in CASES if renderable(case)]


def test_most_cases_take_part_in_the_rerender_test():
    assert len(RENDERABLE) >= 250


@pytest.mark.parametrize("case", RENDERABLE)
def test_rerendered_case_generates_the_same_service(generator, case):
    original_verdict, original = outcome(generator, case)
    assert original_verdict == "accepted", original
    unit_type = case.rsplit(".", 1)[1]
    sections = parse_unit((CORPUS / case).read_text())
    text = render_unit(unit_type, sections.get("Unit"), sections.get(UNIT_TYPES[unit_type], {}),
                       sections.get("Service"), sections.get("Install"))
    verdict, generated = outcome(generator, case, text)
    assert verdict == "accepted", generated
    # Same keys in the same sections. Section order follows the source, and the module
    # always writes the main section, even empty: neither changes the service.
    assert meaning(generated) == meaning(original)


def meaning(unit_text):
    """Sections and keys of a generated service. The generator orders some podman
    arguments by Go map iteration, which varies from run to run: Exec lines compare as
    sorted words."""
    sections = {}
    for name, options in parse_unit(unit_text).items():
        if options:
            sections[name] = {key: sorted(shlex.split(value)) if key.startswith("Exec") and isinstance(value, str)
                              else value for key, value in options.items()}
    return sections


def test_generator_is_the_lab_hosts_podman():
    version = subprocess.run([str(GENERATOR), "-version"], capture_output=True, text=True, check=True).stdout
    assert re.match(r"^\d+\.\d+", version)
    assert tuple(int(n) for n in version.split(".")[:2]) >= (4, 4)
    assert os.access(GENERATOR, os.X_OK)

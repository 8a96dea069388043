"""Property: any value either is refused, or reaches the container exactly as written.

Values are drawn from every Unicode category and every control character, for the
Environment, Label and Annotation pairs the quadlet module renders and for the command
and healthcheck words the catalog renders. Accepted values go through the real Quadlet
generator; its ExecStart is read back with systemd's rules (quoting, C escapes, %% and
$$), and each value must come out unchanged, with no key the unit did not declare.
"""

import random
import re
import sys
import unicodedata

import pytest

from quadlet_generator import ensure_generator, run_generator

from ansible_collections.homelab.stack.plugins.module_utils.quadlet import (
    QuadletError,
    exec_words,
    literal,
    parse_unit,
    render_unit,
    unsafe_character,
    validate_units,
)

IMAGE = "localhost/app:1"
SEED = 20261202
RANDOM_VALUES = 600
PER_UNIT = 25

# Characters that mean something to systemd, Quadlet, a shell or an INI reader.
SPECIAL = list(" \t\"'\\$%;=#[]{}`&|<>*?~!,:@^()")


def by_category():
    """{Unicode category: up to 64 characters of it, spread over the code space}."""
    pools = {}
    for code in range(sys.maxunicode + 1):
        pools.setdefault(unicodedata.category(chr(code)), []).append(chr(code))
    rng = random.Random(SEED)
    return {category: sorted(rng.sample(chars, min(64, len(chars)))) for category, chars in pools.items()}


POOLS = by_category()
CONTROLS = [chr(code) for code in range(0x20)] + [chr(code) for code in range(0x7f, 0xa0)]


def values():
    """Every control character and every category inside ordinary text, then random mixes."""
    rng = random.Random(SEED)
    fixed = ["a%sb" % char for char in CONTROLS]
    fixed += ["x%sy" % rng.choice(pool) for pool in POOLS.values()]
    fixed += ["%h", "$HOME", "${HOME}", "%%", "$$", "\\", "\"", "'", ";", "=", " lead", "trail ", "a\u2028b"]
    # Mixes draw from every category; the unsafe ones share one pool, so that about half
    # of the values can be accepted and checked through the generator.
    unsafe = ("Cc", "Cs", "Zl", "Zp")
    pools = [pool for category, pool in POOLS.items() if category not in unsafe] + [SPECIAL] * 3
    pools.append([char for category in unsafe for char in POOLS[category]])
    mixed = ["".join(rng.choice(rng.choice(pools)) for dummy in range(rng.randint(1, 12)))
             for dummy in range(RANDOM_VALUES)]
    return fixed + mixed


ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "s": " ",
           "\\": "\\", "\"": "\"", "'": "'"}


def unescape(text, index):
    """One C escape of systemd's at ``text[index]`` (a backslash): (character, next index)."""
    char = text[index + 1]
    if char in ESCAPES:
        return ESCAPES[char], index + 2
    for prefix, digits in (("x", 2), ("u", 4), ("U", 8)):
        if char == prefix:
            return chr(int(text[index + 2:index + 2 + digits], 16)), index + 2 + digits
    if char in "01234567":
        return chr(int(text[index + 1:index + 4], 8)), index + 4
    raise AssertionError("unknown escape \\%s in %r" % (char, text))


def systemd_words(line):
    """The words systemd makes of an ExecStart= value (before specifiers and variables)."""
    words, index = [], 0
    while index < len(line):
        while index < len(line) and line[index] in " \t":
            index += 1
        if index == len(line):
            break
        word = []
        while index < len(line) and line[index] not in " \t":
            char = line[index]
            if char in "\"'":
                index += 1
                while line[index] != char:
                    if line[index] == "\\":
                        decoded, index = unescape(line, index)
                    else:
                        decoded, index = line[index], index + 1
                    word.append(decoded)
                index += 1
            elif char == "\\":
                decoded, index = unescape(line, index)
                word.append(decoded)
            else:
                word.append(char)
                index += 1
        words.append("".join(word))
    return words


def as_run(word):
    """What the process gets for an ExecStart word of ours: %% and $$ halved; any other
    specifier or variable would be expanded by systemd, which is a failure."""
    expanded = re.search(r"%[^%]|%$|\$[^$]|\$$", re.sub(r"%%|\$\$", "", word))
    assert not expanded, "systemd would expand %r in %r" % (expanded.group(), word)
    return re.sub(r"%%|\$\$", lambda match: match.group()[0], word)


def generate(units):
    """{file name: generated service text} from the real generator, over a scratch directory."""
    return validate_units(ensure_generator(), "/nonexistent-unit-dir", units, run_generator)


def exec_start(service_text):
    lines = [line for line in service_text.split("\n") if line.startswith("ExecStart=")]
    assert len(lines) == 1, service_text
    return systemd_words(lines[0][len("ExecStart="):])


def keys(service_text):
    return {(section, key) for section, options in parse_unit(service_text).items() for key in options}


def split_accepted(render):
    """(accepted values, refused values) of values(), by whether ``render(value)`` raises."""
    accepted, refused = [], []
    for value in values():
        try:
            render(value)
            accepted.append(value)
        except QuadletError:
            refused.append(value)
    return accepted, refused


@pytest.mark.parametrize("key", ["Environment", "Label", "Annotation"])
def test_pair_values_are_refused_or_arrive_exactly(key):
    def render(value):
        return render_unit("container", spec={"Image": IMAGE, key: {"K": value}})
    accepted, refused = split_accepted(render)
    # Refusal is for unsafe characters only, and every one of them is refused.
    assert all(unsafe_character(value) for value in refused)
    assert not [value for value in accepted if unsafe_character(value)]
    assert len(accepted) > len(values()) // 2
    flag = {"Environment": "--env", "Label": "--label", "Annotation": "--annotation"}[key]
    baseline = keys(generate({"base.container": render_unit("container", spec={
        "Image": IMAGE, key: {"K%d" % n: "plain" for n in range(PER_UNIT)}})})["base.container"])
    batches = [accepted[start:start + PER_UNIT] for start in range(0, len(accepted), PER_UNIT)]
    units = {"v%d.container" % n: render_unit("container", spec={
        "Image": IMAGE, key: {"K%d" % index: value for index, value in enumerate(batch)}})
        for n, batch in enumerate(batches)}
    generated = generate(units)
    for n, batch in enumerate(batches):
        text = generated["v%d.container" % n]
        assert keys(text) == baseline, "a value added or removed a key"
        words = exec_start(text)
        got = [as_run(words[i + 1]) for i, word in enumerate(words) if word == flag]
        # Quadlet orders the pairs by key.
        assert sorted(got) == sorted("K%d=%s" % (index, value) for index, value in enumerate(batch))


def test_command_and_healthcheck_words_are_refused_or_arrive_exactly():
    def render(value):
        return render_unit("container", spec={"Image": IMAGE, "Exec": exec_words(["cmd", value, "end"], "command"),
                                              "HealthCmd": literal(value, "healthcheck.cmd")})
    accepted, refused = split_accepted(render)
    # HealthCmd is taken raw: Quadlet trims white space, strips outer double quotes and
    # joins a line that ends in a backslash, so such values are refused too.
    assert all(unsafe_character(value) or value.strip() == ";" or value != value.strip()
               or value[:1] == '"' or value[-1:] in ('"', "\\") for value in refused)
    assert len(accepted) > len(values()) // 2
    units = {"c%d.container" % n: render(value) for n, value in enumerate(accepted)}
    generated = generate(units)
    baseline = keys(generate({"base.container": render("plain")})["base.container"])
    for n, value in enumerate(accepted):
        text = generated["c%d.container" % n]
        assert keys(text) == baseline, "a value added or removed a key"
        words = exec_start(text)
        image = words.index(IMAGE)
        assert [as_run(word) for word in words[image + 1:]] == ["cmd", value, "end"]
        assert as_run(words[words.index("--health-cmd") + 1]) == value

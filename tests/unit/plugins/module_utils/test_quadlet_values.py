"""What module_utils/quadlet.py lets through from a value, and how it reads unit files."""

import pytest

from ansible_collections.homelab.stack.plugins.module_utils.quadlet import (
    QuadletError,
    exec_words,
    literal,
    parse_unit,
    read_key,
    render_unit,
    unit_filename,
    unit_lines,
    unit_references,
    unsafe_character,
)


@pytest.mark.parametrize("char", [chr(c) for c in list(range(0x00, 0x09)) + list(range(0x0a, 0x20))
                                  + list(range(0x7f, 0xa0))] + ["\u2028", "\u2029", "\udc80"])
def test_every_control_character_and_separator_is_unsafe(char):
    assert unsafe_character("ok" + char + "ok") == char
    with pytest.raises(QuadletError, match=r"\[Container\] Environment.A: "):
        render_unit("container", spec={"Image": "x", "Environment": {"A": "ok" + char}})


@pytest.mark.parametrize("text", ["tab\there", "ü € 😀", "\u200b zero width", "\ufeff", "\ufffe", "$%\"'\\;#="])
def test_ordinary_text_is_safe(text):
    assert unsafe_character(text) is None


def test_lines_end_where_systemd_ends_them():
    assert unit_lines("a\nb\rc\0d\u2028e\x0bf\x85g") == ["a", "b", "c", "d\u2028e\x0bf\x85g"]
    text = "[Container]\nImage=x\nEnvironment=A\u2028ServiceName=victim\n"
    assert read_key(text, "Container", "ServiceName") is None
    assert parse_unit(text)["Container"] == {"Image": "x", "Environment": "A\u2028ServiceName=victim"}
    assert read_key("[Container]\nImage=x\0ServiceName=other\n", "Container", "ServiceName") == "other"


def test_references_are_found_in_linear_time():
    assert unit_references("Network=homelab.network\nVolume=app-data.volume:/d\nImage=web@1.image x.conf") == {
        "homelab.network", "app-data.volume", "web@1.image"}
    # The old pattern took seconds on 40 kB of one run of name characters and 13 minutes
    # on 1 MB (the module test of a megabyte value guards the time with its timeout).
    assert unit_references("a" * (1 << 20) + ".network") == {"a" * (1 << 20) + ".network"}


def test_literal_doubles_what_systemd_expands():
    assert literal("test -d %h && echo $X", "f") == "test -d %%h && echo $$X"
    with pytest.raises(QuadletError, match="^f: a lone ';'"):
        literal(" ; ", "f")


def test_exec_words_are_quoted_escaped_and_checked():
    assert exec_words(["sh", "-c", "echo 'hi' %h"], "command") == "sh -c 'echo '\"'\"'hi'\"'\"' %%h'"
    with pytest.raises(QuadletError, match=r"^command\[1\]: must not be empty"):
        exec_words(["a", "", "b"], "command")
    with pytest.raises(QuadletError, match=r"^command\[0\]: contains U\+0000"):
        exec_words(["a\0"], "command")


def test_unit_names_fit_systemd():
    assert unit_filename("a" * 240, "volume") == "a" * 240 + ".volume"  # a...-volume.service: 255
    with pytest.raises(QuadletError, match="^name: 241 characters is too long"):
        unit_filename("a" * 241, "volume")
    for name in ("data.volume", "x.container", "web.network", 123):
        with pytest.raises(QuadletError, match="is not a unit base name"):
            unit_filename(name, "volume")

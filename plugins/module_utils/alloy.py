# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Grafana Alloy's configuration: a host's journal shipped to Loki, in Alloy's syntax.

Alloy reads its own configuration language (blocks, attributes, expressions), not YAML,
so the file is built as a small model and rendered: a :class:`Block` holds attributes and
blocks, a value is a string, number, boolean, list, object or a :class:`Ref` to another
component's export. Strings are written as double-quoted literals with every backslash,
quote and control character escaped (:func:`quote`), so no value (a host name, a URL)
can end a string or open a block. :func:`check` refuses a model whose references name no
component of the file, which Alloy would refuse only when it loads it.

The pipeline of :func:`journal_to_loki`: ``loki.source.journal`` reads the journal (the
units, and the containers, which Podman's journald log driver writes there), with the
rules of ``loki.relabel`` keeping the unit, container and priority as labels and a
static ``host`` label, then ``loki.write`` pushes to Loki's push API.
"""

from __future__ import annotations

import re

# An identifier of Alloy's syntax: block names' parts and attribute names.
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A reference to a component's export: <name parts>.<label>.<export>.
_REFERENCE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Loki's label names (Prometheus' rule).
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
DURATION = re.compile(r"([0-9]+(\.[0-9]+)?(ms|s|m|h))+")

PUSH_PATH = "/loki/api/v1/push"
# What each label comes from: the journal's fields as loki.source.journal exposes them
# (``__journal_`` and the field name in lower case); CONTAINER_NAME is Podman's.
JOURNAL_LABELS = (
    ("__journal__systemd_unit", "unit"),
    ("__journal_container_name", "container"),
    ("__journal_priority_keyword", "level"),
)
# How far back a new agent reads (the journal's own retention keeps more).
DEFAULT_MAX_AGE = "12h"


class ConfigError(ValueError):
    """Input the file cannot be built from; the message starts with the field at fault."""


class Ref:
    """An expression naming a component's export, e.g. ``loki.write.default.receiver``."""

    def __init__(self, path):
        if not isinstance(path, str) or not _REFERENCE.fullmatch(path):
            raise ConfigError("reference: %r is not a component export such as loki.write.default.receiver" % (path,))
        self.path = path

    def component(self):
        """The component it names: the path without its last part (the export)."""
        return self.path.rsplit(".", 1)[0]

    def __eq__(self, other):
        return isinstance(other, Ref) and other.path == self.path

    def __hash__(self):
        return hash(self.path)

    def __repr__(self):
        return "Ref(%r)" % self.path


class Block:
    """A block: ``name "label" { body }``; ``body`` a list of (attribute, value) pairs and blocks."""

    def __init__(self, name, label=None, body=()):
        if not isinstance(name, str) or not all(IDENTIFIER.fullmatch(part) for part in name.split(".")):
            raise ConfigError("block: %r is not a block name such as loki.write" % (name,))
        self.name = name
        self.label = label
        self.body = list(body)

    def component(self):
        """``name.label``, how references name it (None for an unlabelled block)."""
        return None if self.label is None else "%s.%s" % (self.name, self.label)


def quote(text):
    """``text`` as an Alloy string literal: backslash, double quote and control characters
    escaped (``\\n``, ``\\t``, ``\\r`` or ``\\u00XX``), everything else as it is."""
    if not isinstance(text, str):
        raise ConfigError("string: must be a string, got %r" % (text,))
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append("\\u%04x" % ord(char))
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _value(value, indent):
    """A value as Alloy text; lists and objects over several lines, indented."""
    pad = "  " * (indent + 1)
    if isinstance(value, Ref):
        return value.path
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        return "[" + ", ".join(_value(item, indent) for item in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        lines = []
        for key, item in value.items():
            name = key if isinstance(key, str) and IDENTIFIER.fullmatch(key) else quote(key)
            lines.append("%s%s = %s,\n" % (pad, name, _value(item, indent + 1)))
        return "{\n" + "".join(lines) + "  " * indent + "}"
    raise ConfigError("value: %r cannot be written in Alloy's syntax" % (value,))


def _render(block, indent):
    pad = "  " * indent
    head = block.name if block.label is None else "%s %s" % (block.name, quote(block.label))
    lines = ["%s%s {\n" % (pad, head)]
    attributes = [item for item in block.body if not isinstance(item, Block)]
    width = max((len(key) for key, _value_ in attributes), default=0)
    for item in block.body:
        if isinstance(item, Block):
            # A blank line between a nested block and what precedes it, as Alloy's fmt writes.
            lines.append(("\n" if len(lines) > 1 else "") + _render(item, indent + 1))
            continue
        key, value = item
        if not IDENTIFIER.fullmatch(key):
            raise ConfigError("%s: attribute %r is not an identifier" % (block.name, key))
        lines.append("%s  %s = %s\n" % (pad, key.ljust(width), _value(value, indent + 1)))
    lines.append("%s}\n" % pad)
    return "".join(lines)


def render(blocks, comment=None):
    """The file's text: an optional ``//`` comment line, then each block."""
    head = "" if comment is None else "// %s\n\n" % " ".join(str(comment).split())
    return head + "\n".join(_render(block, 0) for block in blocks)


def references(value):
    """Every :class:`Ref` in a value or block, in order."""
    if isinstance(value, Ref):
        return [value]
    if isinstance(value, Block):
        return [ref for item in value.body for ref in references(item if isinstance(item, Block) else item[1])]
    if isinstance(value, (list, tuple)):
        return [ref for item in value for ref in references(item)]
    if isinstance(value, dict):
        return [ref for item in value.values() for ref in references(item)]
    return []


def check(blocks):
    """Refuse two components of one name, or a reference to no component of the file."""
    defined = set()
    for block in blocks:
        name = block.component()
        if name in defined:
            raise ConfigError("%s: is defined twice" % name)
        if name is not None:
            defined.add(name)
    for block in blocks:
        for ref in references(block):
            if ref.component() not in defined:
                raise ConfigError("%s: refers to %s, which is not a component of the file"
                                  % (block.component() or block.name, ref.component()))
    return blocks


def _push_url(url):
    if not isinstance(url, str) or not re.fullmatch(r"https?://[^\s/\"\\]+" + re.escape(PUSH_PATH), url):
        raise ConfigError("loki_url: must be http(s)://<host>:<port>%s, got %r" % (PUSH_PATH, url))
    return url


def journal_to_loki(host, loki_url, max_age=DEFAULT_MAX_AGE):
    """The blocks that ship ``host``'s journal to the Loki push API at ``loki_url``.

    Every line gets the label ``host`` (the inventory name) and, when the journal entry has
    them, ``unit``, ``container`` and ``level``; ``max_age`` is how far back a new agent
    reads (an Alloy duration).
    """
    if not isinstance(host, str) or not host:
        raise ConfigError("host: must be the inventory host name, got %r" % (host,))
    if not isinstance(max_age, str) or not DURATION.fullmatch(max_age):
        raise ConfigError("max_age: must be a duration such as 12h, got %r" % (max_age,))
    relabel = Block("loki.relabel", "journal", [("forward_to", [])] + [
        Block("rule", None, [("source_labels", [source]), ("target_label", target)])
        for source, target in JOURNAL_LABELS])
    source = Block("loki.source.journal", "journal", [
        ("max_age", max_age),
        ("relabel_rules", Ref("loki.relabel.journal.rules")),
        ("labels", {"host": host}),
        ("forward_to", [Ref("loki.write.loki.receiver")]),
    ])
    write = Block("loki.write", "loki", [Block("endpoint", None, [("url", _push_url(loki_url))])])
    return check([relabel, source, write])


def alloy_config(host, loki_url, max_age=DEFAULT_MAX_AGE):
    """The text of ``config.alloy`` for ``host`` (see :func:`journal_to_loki`)."""
    return render(journal_to_loki(host, loki_url, max_age),
                  comment="Written by homelab.stack: the journal of this host to Loki.")

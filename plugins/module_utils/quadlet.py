# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Quadlet unit files: rendering, service names and validation with the real generator.

Quadlet (podman-systemd.unit(5)) reads INI-style unit files (``web.container``,
``data.volume``, ...) and generates systemd services from them. This file owns that
format for the collection: how structured options become unit text, which service a
unit produces, and how the generator is asked whether it accepts a unit.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import stat
import tempfile
import unicodedata

# The main section of each unit type, in the order Quadlet documents them.
UNIT_TYPES = {
    "container": "Container",
    "network": "Network",
    "volume": "Volume",
    "pod": "Pod",
    "image": "Image",
    "kube": "Kube",
    "build": "Build",
}

# Keys whose dict form means KEY=value pairs that must reach the container literally.
PAIR_KEYS = ("Annotation", "Environment", "Label")

GENERATOR_PATHS = (
    "/usr/libexec/podman/quadlet",
    "/usr/lib/podman/quadlet",
    "/usr/lib/systemd/system-generators/podman-system-generator",
)

MINIMUM_PODMAN = (4, 4)

HEADER = "# Managed by Ansible (homelab.stack.quadlet): local edits are overwritten.\n"

# systemd's unit names are at most 255 characters (UNIT_NAME_MAX counts the NUL).
UNIT_NAME_MAX = 255

# systemd ends a unit file line at LF, CR or NUL (read_line() in fileio.c), nowhere else.
SYSTEMD_LINE_END = re.compile("[\n\r\0]")


class QuadletError(Exception):
    """A problem with a unit's options or with the generator, worded for the user."""


def quote_pair(key, value, field=None):
    """Render one KEY=value pair as a quoted Quadlet word that arrives unchanged.

    Quadlet splits the value like systemd (C escapes inside double quotes) and copies
    it into ExecStart, where systemd expands ``%`` specifiers and ``$`` variables: both
    are doubled so that the container sees exactly what was written.
    """
    text = "%s=%s" % (key, _scalar(value, field or key))
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")
    return '"%s"' % escaped


# Characters that must never reach a unit from a value: every control character but
# TAB (Unicode category Cc: systemd ends a line at LF, CR and NUL, and the others end a
# line for other readers or mean nothing in a unit), the separators str.splitlines()
# also breaks on (U+2028, U+2029; U+0085 is in Cc) and lone surrogates (Cs), which
# cannot be written as UTF-8. A character class, so the scan is linear.
UNSAFE_CHARACTER = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def unsafe_character(text):
    """The first character of ``text`` that must never reach a unit from a value, or None."""
    match = UNSAFE_CHARACTER.search(text)
    return match.group() if match else None


def describe_character(char):
    """``U+2028 (LINE SEPARATOR)``: a character named for an error message."""
    return "U+%04X (%s)" % (ord(char), unicodedata.name(char, "control character"))


def check_value(text, field):
    """Raise QuadletError naming ``field`` when ``text`` holds an unsafe character."""
    char = unsafe_character(text)
    if char in ("\n", "\r"):
        raise QuadletError("%s: values cannot contain line breaks" % field)
    if char is not None:
        raise QuadletError("%s: contains %s, which cannot be written into a unit" % (field, describe_character(char)))
    return text


def _scalar(value, key):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return check_value(value, key)
    raise QuadletError("%s: expected a string, number or boolean, got %s" % (key, type(value).__name__))


def _word(text, field):
    """Check a value Quadlet copies into ExecStart as a word: safe characters, and not a
    lone ``;``, which Quadlet writes unquoted and systemd reads as another command line."""
    check_value(text, field)
    if text.strip() == ";":
        raise QuadletError("%s: a lone ';' would start another command in the generated service" % field)
    return text


def _double_expansions(text):
    return text.replace("%", "%%").replace("$", "$$")


def literal(text, field):
    """A ``HealthCmd`` value that reaches the container exactly as written.

    Quadlet takes such a value raw and copies it into ExecStart as one word, where systemd
    would expand ``%`` specifiers and ``$`` variables, so both are doubled. On the way the
    unit parser trims surrounding white space, Quadlet strips a leading and a trailing
    double quote, and a trailing backslash joins the next line: values that start or end
    so cannot arrive as written and are refused.
    """
    _word(text, field)
    if text != text.strip() or text[:1] == '"' or text[-1:] in ('"', "\\"):
        raise QuadletError("%s: must not start or end with white space or a double quote, nor end with a"
                           " backslash: Quadlet would strip or join it" % field)
    return _double_expansions(text)


def exec_words(words, field):
    """``Exec=`` text that gives the container exactly ``words`` as its command.

    Quadlet splits Exec like systemd: shell-like quotes, but C escapes inside single quotes
    too, so the words are shell-quoted with each backslash doubled. It copies the words
    into ExecStart, where systemd expands ``%`` and ``$``, so both are doubled as well.
    An empty word is refused, since Quadlet drops it and every word after it.
    """
    for index, word in enumerate(words):
        label = "%s[%d]" % (field, index)
        if word == "":
            raise QuadletError("%s: must not be empty (Quadlet drops an empty word and every word after it)" % label)
        _word(word, label)
    # shlex.quote() puts every word with a backslash in single quotes.
    return _double_expansions(" ".join(shlex.quote(word).replace("\\", "\\\\") for word in words))


def render_section(name, options):
    """Render ``[name]`` and its keys, in the order given; lists repeat the key."""
    lines = ["[%s]" % name]
    if not isinstance(options, dict):
        raise QuadletError("%s: expected a mapping of keys to values, got %s" % (name.lower(), type(options).__name__))
    for key, value in options.items():
        if not isinstance(key, str) or not re.match(r"^[A-Za-z][A-Za-z0-9_-]*$", key):
            raise QuadletError("[%s] %s: not a valid key name" % (name, key))
        if value is None:
            continue
        if isinstance(value, dict):
            if key not in PAIR_KEYS:
                raise QuadletError("[%s] %s: a dict is only accepted for %s" % (name, key, ", ".join(PAIR_KEYS)))
            for pair_key, pair_value in value.items():
                if not re.match(r"^[^=\s\"]+$", str(pair_key)) or unsafe_character(str(pair_key)):
                    raise QuadletError("[%s] %s: %r is not a valid name" % (name, key, pair_key))
                lines.append("%s=%s" % (key, quote_pair(pair_key, pair_value, "[%s] %s.%s" % (name, key, pair_key))))
        elif isinstance(value, list):
            for item in value:
                lines.append("%s=%s" % (key, _scalar(item, "[%s] %s" % (name, key))))
        else:
            lines.append("%s=%s" % (key, _scalar(value, "[%s] %s" % (name, key))))
    return "\n".join(lines) + "\n"


def render_unit(unit_type, unit=None, spec=None, service=None, install=None):
    """Render a whole unit file from its sections; same input, same bytes."""
    if unit_type not in UNIT_TYPES:
        raise QuadletError("type: must be one of %s" % ", ".join(UNIT_TYPES))
    sections = [("Unit", unit), (UNIT_TYPES[unit_type], spec or {}), ("Service", service), ("Install", install)]
    parts = [render_section(name, options) for name, options in sections if options is not None and (options or name == UNIT_TYPES[unit_type])]
    return HEADER + "\n".join(parts)


# The permissions a unit file gets unless the task sets O(mode).
UNIT_MODE = "0644"

# The options of a unit that hold its sections, in file order.
SECTION_OPTIONS = ("unit", "spec", "service", "install")


def unit_text(options):
    """The exact text a unit's options (as M(homelab.stack.quadlet) takes them) give.

    ``content`` is the whole file as written (a final newline added); otherwise the
    sections are rendered by render_unit(). Both the module and the service role's plan
    on the controller call this, so the text they compare is the same by construction.
    """
    content = options.get("content")
    if content is not None:
        # Whole lines are the user's to write, but no line may end where systemd would
        # not see one, so every character unsafe in a value is refused here too, except
        # the line feeds between lines.
        check_value(content.replace("\n", " "), "content")
        return content if content.endswith("\n") else content + "\n"
    return render_unit(options.get("type") or "container", *(options.get(key) for key in SECTION_OPTIONS))


def text_digest(text):
    """SHA-256 (hex) of unit text as UTF-8: what the host's file and the rendered unit
    are compared by, without sending either's text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def ends_like_a_unit(word):
    """Whether ``word`` ends like a unit file name (``data.volume``, ``web@1.container``)."""
    return "." in word and word.rpartition(".")[2] in UNIT_TYPES


def unit_filename(name, unit_type):
    """The file a unit lives in, after checking the name is a plain unit base name.

    A name may not end like a unit file (``data.volume``), whatever the type: such a
    name reads as a reference to another unit. The service Quadlet makes from it must
    fit systemd's limit on unit names, which also keeps the file name short enough.
    """
    if not isinstance(name, str) or not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$", name) or ends_like_a_unit(name):
        raise QuadletError("name: %r is not a unit base name (letters, digits, '_', '.', '@', '-'; no type suffix)"
                           % (name,))
    longest = len(service_name(name, unit_type))
    if longest > UNIT_NAME_MAX:
        raise QuadletError("name: %d characters is too long: its service %s... would have %d characters, systemd allows %d"
                           % (len(name), name[:20], longest, UNIT_NAME_MAX))
    return "%s.%s" % (name, unit_type)


def unit_lines(text):
    """The lines of unit text as systemd reads them: split at LF, CR and NUL only."""
    return SYSTEMD_LINE_END.split(text)


def parse_unit(text):
    """Sections of unit text as an ordered {section: {key: value or [values]}}.

    Comments and blank lines are dropped, backslash continuations are joined the way
    systemd joins them, and a repeated key becomes a list in order of appearance, so
    that render_unit() gives text with the same meaning.
    """
    sections = {}
    current = None
    pending = ""
    for raw in unit_lines(text):
        line = pending + raw.strip() if pending else raw.strip()
        pending = ""
        if not line or line[0] in "#;":
            continue
        if line.endswith("\\"):
            pending = line[:-1].rstrip() + " "
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
        elif current is not None and "=" in line:
            key, value = (part.strip() for part in line.split("=", 1))
            if key in current:
                previous = current[key]
                current[key] = (previous if isinstance(previous, list) else [previous]) + [value]
            else:
                current[key] = value
    return sections


def read_key(text, section, key):
    """Last value of ``key`` in ``[section]`` of unit text (None when absent)."""
    current = None
    found = None
    for raw in unit_lines(text):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
        elif current == section and "=" in line:
            name, value = line.split("=", 1)
            if name.strip() == key:
                found = value.strip()
    return found


def service_name(name, unit_type, text=""):
    """The systemd service Quadlet generates for a unit (ServiceName= wins)."""
    override = read_key(text, UNIT_TYPES[unit_type], "ServiceName") if text else None
    if override:
        return override if override.endswith(".service") else override + ".service"
    if unit_type in ("container", "kube"):
        return name + ".service"
    return "%s-%s.service" % (name, unit_type)


def find_generator(explicit=None):
    """Path of the Quadlet generator, or raise naming where it was looked for."""
    candidates = [explicit] if explicit else list(GENERATOR_PATHS)
    for path in candidates:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    raise QuadletError(
        "no Quadlet generator found (looked at %s): Podman %d.%d or newer is needed"
        % (", ".join(candidates), MINIMUM_PODMAN[0], MINIMUM_PODMAN[1])
    )


def parse_version(text):
    """(major, minor) from ``podman --version`` output, or None."""
    match = re.search(r"(\d+)\.(\d+)", text or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def split_generated(output):
    """{service file name: unit text} from ``quadlet -dryrun`` output."""
    services = {}
    current = None
    for line in output.splitlines(True):
        header = re.match(r"^---(.+)---$", line.rstrip("\n"))
        if header:
            current = header.group(1)
            services[current] = ""
        elif current is not None:
            services[current] += line
    return services


# Words that may name a unit; each match is a maximal run, so scanning is linear.
_UNIT_WORD = re.compile(r"[A-Za-z0-9_.@-]+")


def unit_references(text):
    """Names of unit files (``homelab.network``, ``data.volume``) that unit text mentions.

    One linear pass: a pattern with the suffix after an open-ended run retried the run
    from every position, quadratic in a long value.
    """
    return {word for word in _UNIT_WORD.findall(text) if ends_like_a_unit(word)}


def _validation_tree(directory, new_units, target):
    """Copy into ``target`` what the generator needs to judge ``new_units``.

    That is the new units, the existing units they reference (transitively: a network a
    container joins, the image unit a volume uses, a template of an instance) and every
    drop-in directory. Unrelated units stay out, so their errors, or a generator crash
    they cause, cannot block or be blamed on the new ones.
    """
    os.makedirs(target)
    existing = set(os.listdir(directory)) if os.path.isdir(directory) else set()
    for entry in existing:
        source = os.path.join(directory, entry)
        if entry.endswith(".d") and os.path.isdir(source):
            shutil.copytree(source, os.path.join(target, entry), symlinks=True)
    pending = list(new_units.items())
    seen = set(new_units)
    while pending:
        filename, text = pending.pop()
        wanted = unit_references(text)
        if "@" in filename:
            # An instance (web@1.container) is generated from its template (web@.container).
            wanted.add(filename.split("@", 1)[0] + "@." + filename.rsplit(".", 1)[1])
        for name in sorted(wanted & existing - seen):
            path = os.path.join(directory, name)
            if regular_file(path):
                seen.add(name)
                pending.append((name, read_unit_file(path)))
                shutil.copy2(path, os.path.join(target, name))
    for filename, text in new_units.items():
        with open(os.path.join(target, filename), "w") as handle:
            handle.write(text)


FILE_KINDS = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def read_unit_file(path, label=""):
    """The text of the unit file at ``path``, or None when there is none.

    Anything but a regular file is refused before it is opened: a link could show
    another file's content in a diff, a FIFO would block forever. The file is opened
    without following links, so it cannot be swapped for one in between. ``label``
    starts the error messages (``units[2]: ``).
    """
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as error:
        raise QuadletError("%scannot inspect %s: %s" % (label, path, error.strerror))
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in FILE_KINDS if test(mode)), "not a regular file")
        raise QuadletError("%s%s is %s, not a regular file: refusing to read or replace it" % (label, path, kind))
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(descriptor, "rb") as handle:
            # Undecodable bytes cannot match the rendered text, so the file is rewritten.
            return handle.read().decode("utf-8", errors="replace")
    except OSError as error:
        raise QuadletError("%scannot read %s: %s" % (label, path, error.strerror))


def regular_file(path):
    """True when ``path`` is a regular file itself, not a link, FIFO, device or directory."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def validate_units(generator, directory, new_units, run, user=False):
    """Ask the generator about new unit files without touching ``directory``.

    ``new_units`` maps file names to their new text. The generator runs in dry-run mode
    over a copy of what they need from ``directory`` (see _validation_tree); ``run(args,
    env)`` runs it and returns (rc, stdout, stderr), e.g. AnsibleModule.run_command.
    Returns {file name: generated service text}; raises QuadletError with the
    generator's words for the first new unit it rejects.
    """
    workdir = tempfile.mkdtemp(prefix="quadlet-validate-")
    try:
        units_dir = os.path.join(workdir, "units")
        _validation_tree(directory, new_units, units_dir)
        dummy, stdout, stderr = run([generator, "-dryrun"] + (["-user"] if user else []),
                                    {"QUADLET_UNIT_DIRS": units_dir})
        stderr = stderr.replace(units_dir, directory)
        if "panic:" in stderr:
            crash = [line for line in stderr.splitlines() if line.startswith("panic:")][0]
            raise QuadletError("%s: the Quadlet generator crashed on it (%s)" % (", ".join(sorted(new_units)), crash))
        by_source = {}
        for text in split_generated(stdout).values():
            source = read_key(text, "Unit", "SourcePath")
            if source:
                by_source[os.path.basename(source)] = text.replace(units_dir, directory)
        accepted = {}
        for filename in sorted(new_units):
            if filename in by_source:
                accepted[filename] = by_source[filename]
                continue
            mentions = [line.split("]: ", 1)[-1] for line in stderr.splitlines()
                        if '"%s"' % filename in line or "/%s" % filename in line]
            errors = [line for line in mentions if not line.startswith(("Loading source", "Warning:"))]
            detail = "; ".join(errors) if errors else (stderr.strip() or "it generated no service for it")
            raise QuadletError("%s: rejected by the Quadlet generator: %s" % (filename, detail))
        return accepted
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

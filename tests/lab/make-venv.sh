#!/usr/bin/env bash
# Creates the development virtualenv (.venv) with Python 3.12 when the machine has it,
# else 3.11, and installs requirements-dev.txt. Re-running is cheap: nothing is
# reinstalled while the requirement files are unchanged.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$root/.venv"
stamp="$venv/.requirements.sha256"

find_python() {
    local version candidate
    for version in 3.12 3.11; do
        # On PATH first; then pyenv's installed versions (its shims need a selected version).
        for candidate in "$(command -v "python$version" || true)" \
            $(command -v pyenv >/dev/null && ls -d "$(pyenv root)/versions/$version"*/bin/"python$version" 2>/dev/null); do
            if [ -n "$candidate" ] && "$candidate" -c 'import venv, ensurepip' >/dev/null 2>&1; then
                echo "$candidate"
                return 0
            fi
        done
    done
    return 1
}

wanted="$(cat "$root/requirements.txt" "$root/requirements-dev.txt" | sha256sum | cut -d' ' -f1)"
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
    exit 0
fi
python="$(find_python)" || {
    echo "venv: Python 3.12 or 3.11 with venv is needed (apt-get install python3-venv)" >&2
    exit 1
}
echo "venv: creating .venv with $("$python" --version 2>&1)" >&2
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$root/requirements-dev.txt"
echo "$wanted" >"$stamp"

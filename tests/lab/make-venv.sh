#!/usr/bin/env bash
# Creates a virtualenv with Python 3.12 when the machine has it, else 3.11.
#   make-venv.sh                      .venv with requirements-dev.txt (the dev tools)
#   make-venv.sh DIR REQUIREMENT...   DIR with just those requirements
# Re-running is cheap: nothing is reinstalled while the requirements are unchanged.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
venv="${1:-.venv}"
shift || true
if [ "$#" -eq 0 ]; then
    set -- -r requirements-dev.txt
fi
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

wanted="$({ echo "$*"; cat requirements.txt requirements-dev.txt; } | sha256sum | cut -d' ' -f1)"
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
    exit 0
fi
python="$(find_python)" || {
    echo "venv: Python 3.12 or 3.11 with venv is needed (apt-get install python3-venv)" >&2
    exit 1
}
echo "venv: creating $venv with $("$python" --version 2>&1)" >&2
"$python" -m venv "$venv"
pip_install() {
    # pip's notes about unreachable extra index folders are noise here.
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@" 2> >(grep -v "is ignored: it is neither" >&2)
}
pip_install --upgrade pip
pip_install "$@"
echo "$wanted" >"$stamp"

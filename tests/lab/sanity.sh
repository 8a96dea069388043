#!/usr/bin/env bash
# Runs `ansible-test sanity` for the checkout. ansible-test wants the tree under
# ansible_collections/NAMESPACE/NAME and lists files with git, so it runs on a
# git-indexed copy of the tracked files, with a venv of its own (its tools pin other
# versions than ansible-lint).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
core_version="$(.venv/bin/python -c 'import ansible; print(ansible.__version__)')"
python_version="$(.venv/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
tests/lab/make-venv.sh .cache/sanity-venv "ansible-core==$core_version"

# ansible-test fetches get-pip.py from a host outside the package registries; give it
# the stand-in under the cache name it looks for.
pip_version="$(sed -n "s/^ *pip='\([0-9.]*\)',$/\1/p" \
    .cache/sanity-venv/lib/python*/site-packages/ansible_test/_internal/python_requirements.py)"
cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
mkdir -p "$(dirname "$cache")"
cmp -s tests/lab/get_pip_standin.py "$cache" 2>/dev/null || cp tests/lab/get_pip_standin.py "$cache"

copy=".cache/ansible-test/ansible_collections/homelab/stack"
rm -rf "$copy" && mkdir -p "$copy"
git ls-files -co --exclude-standard | rsync -a --files-from=- ./ "$copy/"
cd "$copy"
git init -q && git add -A
PATH="$root/.cache/sanity-venv/bin:$PATH" ansible-test sanity --requirements --python "$python_version" "$@"

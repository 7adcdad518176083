#!/usr/bin/env bash
# ansible-test sanity needs the collection at .../ansible_collections/vaultops/recovery,
# so it runs on a copy of the files git knows about (tracked, or new and not ignored).
set -euo pipefail
# shellcheck source=scripts/lib/err-trap.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/err-trap.sh"
repo=$(cd "$(dirname "$0")/.." && pwd)
venv=${VENV:-$repo/.venv}
work="${SANITY_WORK:-$repo/.tmp/sanity}"  # separate copies let two checks run at once
dest="$work/ansible_collections/vaultops/recovery"
rm -rf "$work"
mkdir -p "$dest"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard | rsync -a --from0 --files-from=- ./ "$dest/")
cd "$dest"
git init -q && git add -A  # ansible-test lists the collection's files through git
export PATH="$venv/bin:$PATH"
pip_version=$(python - <<'PY'
import re, ansible_test, os
source = open(os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")).read()
print(re.search(r"pip='([0-9.]+)'", source).group(1))
PY
)
cache=~/.ansible/test/cache/get_pip_${pip_version//./_}.py
if [ ! -s "$cache" ]; then
  mkdir -p "$(dirname "$cache")"
  cp "$repo/scripts/ansible_test_get_pip.py" "$cache"
fi
# --venv: ansible-test installs each sanity test's own pinned requirements.
ansible-test sanity --venv --python "$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" \
  --color no "$@"

#!/usr/bin/env bash
# Installs what the tests need from Debian's packages when it is missing: chromium (browser tests),
# CJK fonts (screenshots of Chinese pages), PostgreSQL (the suite's second database) and npm (which
# installs axe-core for the accessibility audit, tests/a11y/).
# Needs root and apt-get; elsewhere it says what to install and exits non-zero.
set -euo pipefail

missing=()
# Extra commands named on the command line (e.g. `system-deps.sh wrk` for the benchmarks).
for extra in "$@"; do command -v "$extra" >/dev/null || missing+=("$extra"); done
[ -x /usr/bin/chromium ] || missing+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
[ -d /usr/share/fonts/opentype/noto ] || missing+=(fonts-noto-cjk)
command -v npm >/dev/null || missing+=(nodejs npm)
command -v pgrep >/dev/null || missing+=(procps)  # the fault drills find gunicorn's workers with it

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "system-deps: please install these Debian packages: ${missing[*]}" >&2
  exit 1
fi
echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"

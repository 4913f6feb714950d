#!/usr/bin/env bash
# Refresh the message catalogs after adding or changing translatable strings.
#
#   scripts/update_translations.sh      (from the repository root; PYBABEL=... to use another pybabel)
#
# 1. extracts every _() / _l() / lazy_gettext() / {{ _("...") }} string into messages.pot (babel.cfg
#    says which files), 2. merges it into the Chinese catalog. Then translate the new, empty entries in
# voucher_app/translations/zh/LC_MESSAGES/messages.po and run tests/core/test_translations.py.
# The .mo files are compiled by the Makefile (pybabel compile -d voucher_app/translations).
set -euo pipefail

PYBABEL="${PYBABEL:-.venv/bin/pybabel}"
TRANSLATIONS=voucher_app/translations
POT="$TRANSLATIONS/messages.pot"

if [[ ! -f babel.cfg ]]; then
    echo "run this from the repository root (where babel.cfg is)" >&2
    exit 1
fi

# babel.cfg's patterns are relative to the repository root, so extract from "."; hidden folders
# (.venv, .git) are skipped by pybabel's default --ignore-dirs.
"$PYBABEL" extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
    --project voucher-platform -o "$POT" .

if [[ -f "$TRANSLATIONS/zh/LC_MESSAGES/messages.po" ]]; then
    "$PYBABEL" update -i "$POT" -d "$TRANSLATIONS" -l zh --no-fuzzy-matching --ignore-obsolete
else
    "$PYBABEL" init -i "$POT" -d "$TRANSLATIONS" -l zh
fi

echo "Now translate the empty msgstr entries in $TRANSLATIONS/zh/LC_MESSAGES/messages.po" >&2

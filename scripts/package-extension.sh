#!/usr/bin/env bash
# Zips the built extension (dist/extension) for the Chrome Web Store: the manifest at the
# archive's root, as the store requires.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/extension/manifest.json ] || { echo "dist/extension is missing: run make build" >&2; exit 1; }
version=$(node -p 'require("./manifest.json").version')
out="dist/dreamcatcher-$version.zip"
rm -f "$out"
(cd dist/extension && python3 -m zipfile -c "../$(basename "$out")" ./*)
echo "packaged $out ($(stat -c %s "$out") bytes)"

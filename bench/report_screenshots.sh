#!/usr/bin/env bash
# The first screen of the built-in report (README's first command) as a newcomer sees it, for
# multilingual-e5-small and the English all-MiniLM-L6-v2: docs/gallery/report_first_screen_*.png.
# Run from the repository root after `bash scripts/setup.sh --test` (chromium).
set -euo pipefail
. .venv/bin/activate
for model in intfloat/multilingual-e5-small sentence-transformers/all-MiniLM-L6-v2; do
  name=$(basename $model)
  langgap measure --model $model --out runs/first-screen/$name -q
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$(mktemp -d)" --hide-scrollbars --window-size=1280,900 \
    --screenshot=docs/gallery/report_first_screen_$name.png "file://$PWD/runs/first-screen/$name/report.html" \
    2>/dev/null
done

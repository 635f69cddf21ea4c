#!/usr/bin/env bash
# Regenerates every figure in docs/figures/ from the sweep CSVs in docs/data/.
# Creates .venv (ignored by git) with scripts/requirements.txt on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet -r scripts/requirements.txt
fi
export MPLBACKEND=Agg
for script in scripts/plot_*.py; do
  .venv/bin/python "$script" --data docs/data --out docs/figures
done

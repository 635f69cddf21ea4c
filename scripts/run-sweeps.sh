#!/usr/bin/env bash
# Runs the evaluation sweeps of configs/sweeps/ (all, or the names given)
# into out/sweeps/NAME/ (resumable: rerun to continue) and copies each
# finished summary.csv to docs/data/NAME.csv for the plots.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p cli
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for f in configs/sweeps/*.toml; do names+=("$(basename "$f" .toml)"); done
fi
for name in "${names[@]}"; do
  echo "== sweep $name"
  start=$(date +%s)
  # Failing points are recorded in failures.csv; the other points still count.
  ./target/release/flatsim sweep "configs/sweeps/$name.toml" --out "out/sweeps/$name" || echo "== sweep $name: some points failed, see out/sweeps/$name/failures.csv"
  echo "== sweep $name took $(( $(date +%s) - start )) s"
  cp "out/sweeps/$name/summary.csv" "docs/data/$name.csv"
done

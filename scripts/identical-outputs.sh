#!/usr/bin/env bash
# Byte-identity of two flatsim binaries (or of one binary with and without
# extra run flags) over a representative set of small runs: summary.csv,
# stats.csv and timeline.csv must match byte for byte. Used to prove that a
# speed-up changes no output (docs/validation.md, "Exactness of speed-ups").
#
#   scripts/identical-outputs.sh BASE_BIN NEW_BIN [-- EXTRA_FLAGS_FOR_NEW...]
#
# The cases cover both platforms, every dataflow, SRAM bank conflicts
# (8 banks), a vector-bound softmax (cloud FLAT), spilled K/V (edge FLAT
# with --spill at N = 4096) and cycle-level DRAM.
set -euo pipefail
base=${1:?usage: $0 BASE_BIN NEW_BIN [-- FLAGS]}
new=${2:?usage: $0 BASE_BIN NEW_BIN [-- FLAGS]}
shift 2
extra=()
if [[ ${1:-} == "--" ]]; then
    shift
    extra=("$@")
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cases=(
    "edge-unfused|--hw edge --workload bert --seq-len 512 --dataflow unfused"
    "edge-flat-r|--hw edge --workload bert --seq-len 512 --dataflow flat --gran r --rows 32"
    "edge-flat-h|--hw edge --workload bert --seq-len 256 --dataflow flat --gran h"
    "edge-flash|--hw edge --workload bert --seq-len 1024 --dataflow flash"
    "edge-flat-spill|--hw edge --workload bert --seq-len 4096 --batch 1 --dataflow flat --gran r --rows 32 --spill --epoch-cycles 997"
    "edge-bank-conflicts|--hw edge --workload trxl --seq-len 512 --dataflow flat --gran r --rows 16 --set sram.banks=8"
    "cloud-flat-vector-bound|--hw cloud --workload bert --seq-len 2048 --dataflow flat --gran r --rows 256"
    "cloud-flash|--hw cloud --workload xlm --seq-len 2048 --dataflow flash"
    "cloud-unfused|--hw cloud --workload t5 --seq-len 1024 --dataflow unfused"
    "edge-auto-spill|--hw edge --workload bert --seq-len 1024 --dataflow flat --mapping auto --spill --candidates 2"
    "edge-cycle-flash|--hw edge-cycle --workload bert --seq-len 512 --dataflow flash"
    "edge-cycle-flat|--hw edge-cycle --workload bert --seq-len 512 --dataflow flat --gran r --rows 32"
)

failed=0
for entry in "${cases[@]}"; do
    name=${entry%%|*}
    read -r -a args <<<"${entry#*|}"
    "$base" run "${args[@]}" --out "$work/base-$name" >/dev/null 2>&1 || { echo "FAILED $name (base)"; failed=1; continue; }
    "$new" run "${args[@]}" "${extra[@]}" --out "$work/new-$name" >/dev/null 2>&1 || { echo "FAILED $name (new)"; failed=1; continue; }
    same=1
    for file in summary.csv stats.csv timeline.csv; do
        if ! cmp -s "$work/base-$name/$file" "$work/new-$name/$file"; then
            echo "DIFFER $name $file"
            same=0
            failed=1
        fi
    done
    if [[ $same == 1 ]]; then echo "same   $name"; fi
done
exit $failed

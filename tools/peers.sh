#!/usr/bin/env bash
# Longshot vs PyTorch on one CUDA machine, in one command (docs/peers.md):
#   1. `deno task plan --export-layouts` for every (scenario, method), all in parallel (dynamic
#      methods route every head on the CPU, which takes minutes at full size);
#   2. `tools/peers.py` on every manifest: PyTorch SDPA and FlexAttention on exactly those layouts;
#   3. OUT/peers.json: every record of this call and of earlier calls on the same machine.
#
# Usage: bash tools/peers.sh OUT [SCENARIOS] [METHODS] [HEADS] [peers.py options...]
#   SCENARIOS, METHODS: comma lists (default: the default suite, every method); HEADS default 8.
#   Layouts go to $PEERS_WORK (default /tmp/longshot-peers) and are reused when already there;
#   PEERS_SIZE=ci exports the presets' ci sizes (a try without a GPU: add --dry-run).
# On the lent GPU machine: source .carry/env.sh && bash tools/peers.sh "$OUT"
set -euo pipefail
out=${1:?usage: bash tools/peers.sh OUT [SCENARIOS] [METHODS] [HEADS] [peers.py options...]}
scenarios=${2:-hunyuan-117f-768x1280,moc-multi-shot}
methods=${3:-dense,moc,moga,radial,sta}
heads=${4:-8}
shift $(($# < 4 ? $# : 4))
work=${PEERS_WORK:-/tmp/longshot-peers}
size=${PEERS_SIZE:-full}
seed=1 # bench's default --seed: dynamic layouts route on the same synthetic inputs
mkdir -p "$out" "$work"

pids=()
labels=()
for scenario in ${scenarios//,/ }; do
  for method in ${methods//,/ }; do
    dir="$work/layouts/$scenario/$method"
    [ -f "$dir/manifest.json" ] && continue
    deno task plan --scenario "$scenario" --methods "$method" --heads "$heads" --size "$size" \
      --seed "$seed" --out "$work/plan/$scenario/$method" --export-layouts "$dir" \
      >"$work/export-$scenario-$method.log" 2>&1 &
    pids+=($!)
    labels+=("$scenario × $method")
  done
done
for i in "${!pids[@]}"; do
  # plan exits 1 when a case does not apply (STA on a canvas that is not whole tiles): recorded
  # in the manifest and skipped by peers.py; 2 is a usage error.
  if wait "${pids[$i]}"; then code=0; else code=$?; fi
  echo "export ${labels[$i]}: exit $code"
  if [ "$code" -gt 1 ]; then
    tail -3 "$work/export-${labels[$i]// × /-}.log" >&2
    exit "$code"
  fi
done

manifests=()
for scenario in ${scenarios//,/ }; do
  for method in ${methods//,/ }; do
    manifests+=("$work/layouts/$scenario/$method/manifest.json")
  done
done
# Results accumulate in $work (kept while the machine is), so calls split by scenario or --cases
# each leave the whole file in their own OUT; both copies are rewritten after every record, so a
# call cut short by its time limit still returns (and keeps) what it measured.
code=0
python3 tools/peers.py "${manifests[@]}" --out "$work/peers.json" --out "$out/peers.json" \
  --append "$@" || code=$?
echo "peers: exit $code → $out/peers.json"
exit "$code"

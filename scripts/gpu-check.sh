#!/usr/bin/env bash
# The GPU check (docs/gpu.md): on a machine with an NVIDIA GPU, unattended, in under 8 minutes:
#   1. every fused op's CubeCL kernels against their tensor-op reference on CUDA (values and all gradients);
#   2. `birdie bench step` for tiny / small / base Hawk, Gated SSM and Transformer, causal and bidirectional:
#      tokens/s, the ratio to the GEMM floor measured in the same run, the device's memory pool; and the small
#      prefix-LM Transformer at T = 2048 (the fused attention keeps no T × T tensor);
#   3. mixed bf16 (`--precision bf16`): the loss and gradients of every architecture against f32, and `bench step`
#      of small / base Hawk and Transformer in bf16 (its GEMM floor in bf16);
#   4. 200 steps of `birdie train` on the `small` Hawk preset;
# then one summary table (also written to $OUT_DIR/summary.md).
#
# Builds with `--features cuda` unless prebuilt binaries are given (a GPU machine without internet cannot fetch
# crates): BIRDIE_BIN (the birdie binary) and BIRDIE_KERNEL_TESTS (the birdie-models test binary, from
# `cargo test --release -p birdie-models --features cuda --no-run`). Needs the NVIDIA driver and NVRTC at run time.
#
# Environment: OUT_DIR (default gpu-check/), DEVICE (default cuda), BENCH_BATCH/BENCH_SEQ (default 8 × 1024),
# BENCH_STEPS (default 5), TRAIN_STEPS (default 200).
set -uo pipefail
cd "$(dirname "$0")/.."

OUT_DIR="${OUT_DIR:-gpu-check}"
DEVICE="${DEVICE:-cuda}"
BENCH_BATCH="${BENCH_BATCH:-8}"
BENCH_SEQ="${BENCH_SEQ:-1024}"
BENCH_STEPS="${BENCH_STEPS:-5}"
TRAIN_STEPS="${TRAIN_STEPS:-200}"
mkdir -p "$OUT_DIR"
started=$(date +%s)
elapsed() { echo $(( $(date +%s) - started )); }

if [ -z "${BIRDIE_BIN:-}" ] || [ -z "${BIRDIE_KERNEL_TESTS:-}" ]; then
  echo "== building with --features cuda"
  cargo build --release --features cuda -p birdie-cli || exit 1
  BIRDIE_BIN="${BIRDIE_BIN:-${CARGO_TARGET_DIR:-target}/release/birdie}"
  tests_json=$(cargo test --release -p birdie-models --features cuda --lib --no-run --message-format=json 2>/dev/null)
  BIRDIE_KERNEL_TESTS="${BIRDIE_KERNEL_TESTS:-$(echo "$tests_json" | grep -o '"executable":"[^"]*birdie_models-[^"]*"' \
    | head -1 | sed 's/"executable":"\(.*\)"/\1/')}"
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader \
  | tee "$OUT_DIR/gpu.txt"

rows=()
row() { rows+=("| $1 | $2 | $3 | $4 | $5 |"); }
# Why a command failed: its exit status ($1) and the last line of its log ($2).
why() { if [ "$1" = 124 ]; then echo "timed out"; else tail -1 "$2" | head -c 120; fi; }

echo "== kernel parity on $DEVICE"
if BIRDIE_TEST_DEVICE="$DEVICE" BIRDIE_REQUIRE_GPU=1 timeout 240 "$BIRDIE_KERNEL_TESTS" gpu_kernels --nocapture \
    >"$OUT_DIR/kernels.log" 2>&1; then
  row "kernel parity (6 ops, values + gradients)" "pass" "" "" "$(grep -c '^test .* ok$' "$OUT_DIR/kernels.log") tests"
else
  row "kernel parity (6 ops, values + gradients)" "FAIL" "" "" "see $OUT_DIR/kernels.log"
fi
tail -3 "$OUT_DIR/kernels.log"

# One `bench step` row: its name, its log file, then the bench's arguments.
bench() {
  local name="$1" log="$2"
  shift 2
  echo "== bench step: $name"
  if timeout 60 "$BIRDIE_BIN" bench step --device "$DEVICE" --steps "$BENCH_STEPS" "$@" >"$log" 2>&1; then
    row "bench step $name" "ok" "$(grep -o 'tokens/s: [0-9.]*' "$log" | cut -d' ' -f2)" \
      "$(grep -o 'floor ratio: [0-9.]*' "$log" | cut -d' ' -f3)" "$(grep -o 'memory pool .*' "$log" | head -c 120)"
  else
    row "bench step $name" "FAIL" "" "" "$(why $? "$log")"
  fi
}

for preset in tiny small base; do
  for arch in hawk gated-ssm transformer; do
    for bidi in "" "--bidirectional"; do
      bench "$preset $arch${bidi:+ bidirectional} ($BENCH_BATCH × $BENCH_SEQ)" \
        "$OUT_DIR/bench-$preset-$arch${bidi:+-bidi}.log" \
        --preset "$preset" --arch "$arch" $bidi --batch "$BENCH_BATCH" --seq "$BENCH_SEQ"
    done
  done
done
bench "small transformer bidirectional (4 × 2048)" "$OUT_DIR/bench-small-transformer-bidi-2048.log" \
  --preset small --arch transformer --bidirectional --batch 4 --seq 2048

echo "== mixed precision (bf16) on $DEVICE"
if BIRDIE_TEST_DEVICE="$DEVICE" timeout 180 "$BIRDIE_KERNEL_TESTS" precision:: --nocapture \
    >"$OUT_DIR/precision.log" 2>&1; then
  row "bf16 against f32: loss and gradients, 5 models" "pass" "" "" "$(grep -c '^test .* ok$' "$OUT_DIR/precision.log") tests"
else
  row "bf16 against f32: loss and gradients, 5 models" "FAIL" "" "" "see $OUT_DIR/precision.log"
fi
for preset in small base; do
  for arch in hawk transformer; do
    bench "$preset $arch bf16 ($BENCH_BATCH × $BENCH_SEQ)" "$OUT_DIR/bench-$preset-$arch-bf16.log" \
      --preset "$preset" --arch "$arch" --precision bf16 --batch "$BENCH_BATCH" --seq "$BENCH_SEQ"
  done
done

echo "== bench scan"
if timeout 60 "$BIRDIE_BIN" bench scan --device "$DEVICE" >"$OUT_DIR/bench-scan.log" 2>&1; then
  row "bench scan (8 × 2048 × 1024)" "ok" "" "" "$(head -2 "$OUT_DIR/bench-scan.log" | tr '\n' ' ')"
else
  row "bench scan" "FAIL" "" "" "$(why $? "$OUT_DIR/bench-scan.log")"
fi

echo "== train small-hawk-birdie, $TRAIN_STEPS steps"
rm -rf "$OUT_DIR/train-small"
if timeout 200 "$BIRDIE_BIN" train --config small-hawk-birdie --device "$DEVICE" --steps "$TRAIN_STEPS" \
    --out "$OUT_DIR/train-small" >"$OUT_DIR/train.log" 2>&1; then
  metrics="$OUT_DIR/train-small/metrics.jsonl"
  first=$(grep -o '"train_loss":[0-9.eE+-]*' "$metrics" | head -1 | cut -d: -f2)
  last=$(grep -o '"train_loss":[0-9.eE+-]*' "$metrics" | tail -1 | cut -d: -f2)
  tps=$(grep -o '"tokens_per_s":[0-9.eE+-]*' "$metrics" | tail -20 | cut -d: -f2 | sort -g | awk '{a[NR]=$1} END {printf "%.0f", a[int((NR+1)/2)]}')
  row "train small Hawk, $TRAIN_STEPS steps" "ok" "$tps" "" "loss $(printf '%.4f' "$first") → $(printf '%.4f' "$last")"
else
  row "train small Hawk, $TRAIN_STEPS steps" "FAIL" "" "" "$(why $? "$OUT_DIR/train.log")"
fi

{
  echo "GPU check on $(cat "$OUT_DIR/gpu.txt" 2>/dev/null || echo "$DEVICE"), $(date -u +%Y-%m-%d), $(elapsed) s"
  echo
  echo "| check | result | tokens/s | floor ratio | notes |"
  echo "|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} | tee "$OUT_DIR/summary.md"
! grep -q '| FAIL |' "$OUT_DIR/summary.md"

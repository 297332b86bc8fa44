#!/bin/sh
# GPU check (at most ~8 minutes on one H200; PyTorch and timm installed, no Node, no downloads):
# finetune.py with timm's inception_v4 (random weights) through the sweepd client, under a fake
# sweepd environment, writing its metrics files under $OUT to be ingested elsewhere.
#   1. full fine-tune, 2 epochs, with layer statistics      → $OUT/full.jsonl
#   2. the same without layer statistics (the reference)    → $OUT/full-nostats.jsonl
#   3. head-only (22 frozen blocks) twice: features computed once, then reused from the cache
# images/s are in each epoch's notes (images_per_second), the statistics' time in diagnostics_seconds.
# Run from the repository root: OUT=/some/dir sh examples/pytorch/gpu_check.sh
set -eu
OUT=${OUT:-/tmp/sweepd-gpu-check}
mkdir -p "$OUT/trial" "$OUT/cache"
cd "$(dirname "$0")"
export SWEEPD_TRIAL_ID=gpu-check SWEEPD_TRIAL_DIR="$OUT/trial" SWEEPD_CONTROL_FILE="$OUT/trial/control.json" \
  SWEEPD_CACHE_DIR="$OUT/cache" SWEEPD_MAX_EPOCHS=2 PYTHONUNBUFFERED=1
# A GPU check that found no GPU fails here: it would otherwise time the CPU and call it the GPU.
nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader > "$OUT/gpu.txt"
COMMON="--model=inception_v4 --dataset=synthetic --train_size=4096 --val_size=1024 --num_classes=19 --image_size=299 \
  --batch_size=128 --eval_batch_size=256 --precision=bf16 --optimizer=rmsprop --rmsprop_tf1 --learning_rate=0.001 --device=cuda"
SWEEPD_METRICS_FILE="$OUT/full.jsonl" python3 finetune.py $COMMON --frozen_layers=0 --num_epochs=2 2> "$OUT/full.log"
SWEEPD_METRICS_FILE="$OUT/full-nostats.jsonl" python3 finetune.py $COMMON --frozen_layers=0 --num_epochs=2 --nolayer_stats 2> "$OUT/full-nostats.log"
SWEEPD_METRICS_FILE="$OUT/head1.jsonl" python3 finetune.py $COMMON --frozen_layers=22 --num_epochs=2 2> "$OUT/head1.log"
SWEEPD_METRICS_FILE="$OUT/head2.jsonl" python3 finetune.py $COMMON --frozen_layers=22 --num_epochs=2 --learning_rate=0.01 2> "$OUT/head2.log"
tail -n 3 "$OUT"/*.log

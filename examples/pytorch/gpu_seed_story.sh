#!/bin/sh
# The seed story on a GPU (issue #14 item 4): the practitioner's config against the human answer's
# suggestions and the epsilon-1e-8 references, fine-tuning timm's inception_v4 at 299 px (bf16) on a
# multi-label target, from weights pretrained briefly on a source task in this same script (the GPU
# machine has PyTorch, timm and CUDA, but no Node and no downloads). At most ~8 minutes on one H200.
#
#   1. pretrain MODEL on the source task (finetune.py's generated data, seed 1000: other blobs,
#      other classes), Adam lr 3e-3, epsilon 1e-8, fixed rate, as test/bench/seed-story/testbed.ts
#      does on the CPU                                        → $OUT/pretrained.pt, $OUT/pretrain.jsonl
#   2. fine-tune from it with a new head (--checkpoint_exclude_scopes=HEAD) on the target (generated,
#      seed 0, 19 classes, the last absent from validation), one run per config of
#      test/bench/seed-story.ts's CONFIGS, with the flags it passes   → $OUT/<config>.jsonl, .log
#   3. nvidia-smi's view, the timing of each run                     → $OUT/gpu.txt, $OUT/timing.txt
#
# Read the results on a machine with Node: npm run bench -- seed-story --from=$OUT
# (or node --import tsx test/bench/seed-story/gpu-results.ts $OUT).
#
# Run from the repository root:   OUT=/some/dir sh examples/pytorch/gpu_seed_story.sh
# CPU stand-in (minutes on one core):
#   OUT=/tmp/ss MODEL=tiny_wide_resnet IMAGE_SIZE=32 SYNTH_SIZE=32 TRAIN_SIZE=256 VAL_SIZE=128 \
#     PRETRAIN_SIZE=512 PRETRAIN_EPOCHS=3 EPOCHS=3 DEVICE=cpu THREADS=1 sh examples/pytorch/gpu_seed_story.sh
# SOURCE_DIR / TARGET_DIR (sweepd's on-disk format, e.g. made here by `npm run testbed` and carried
# along) replace the generated source / target sets.
set -eu
OUT=${OUT:-/tmp/sweepd-gpu-seed-story}
MODEL=${MODEL:-inception_v4}
IMAGE_SIZE=${IMAGE_SIZE:-299}
SYNTH_SIZE=${SYNTH_SIZE:-64}          # generated images' stored size (resized to IMAGE_SIZE on the device)
NUM_CLASSES=${NUM_CLASSES:-19}        # target classes
SOURCE_CLASSES=${SOURCE_CLASSES:-12}
TRAIN_SIZE=${TRAIN_SIZE:-1024}        # target train / validation images (the CPU testbed's sizes)
VAL_SIZE=${VAL_SIZE:-512}
EPOCHS=${EPOCHS:-6}                   # fine-tuning epochs per config (seed-story.ts's MAX_EPOCHS)
PRETRAIN_SIZE=${PRETRAIN_SIZE:-2048}
PRETRAIN_EPOCHS=${PRETRAIN_EPOCHS:-4}
PRETRAIN_BATCH=${PRETRAIN_BATCH:-64}
SEED=${SEED:-0}
DEVICE=${DEVICE:-auto}
PRECISION=${PRECISION:-bf16}          # bf16 autocast on CUDA; ignored on the CPU
THREADS=${THREADS:-0}
PROBE_SIZE=${PROBE_SIZE:-64}
DEADLINE_S=${DEADLINE_S:-450}         # no new fine-tuning run starts after this many seconds (partial results still come back)
case "$MODEL" in
  inception_v4) HEAD_DEFAULT=last_linear; BLOCKS_DEFAULT=22 ;;
  tiny_resnet) HEAD_DEFAULT=fc; BLOCKS_DEFAULT=5 ;;
  tiny_wide_resnet) HEAD_DEFAULT=fc; BLOCKS_DEFAULT=7 ;;
  *) HEAD_DEFAULT=; BLOCKS_DEFAULT= ;;
esac
HEAD=${HEAD:-$HEAD_DEFAULT}           # the classifier's parameter prefix: a new head for the target
BLOCKS=${BLOCKS:-$BLOCKS_DEFAULT}     # --frozen_layers that trains the head only (models.py)
if [ -z "$HEAD" ] || [ -z "$BLOCKS" ]; then
  echo "gpu_seed_story: MODEL=$MODEL: set HEAD (the classifier's parameter prefix) and BLOCKS (its block count)" >&2
  exit 2
fi

# The GPU is required when one is asked for, or when DEVICE=auto and nvidia-smi sees one.
REQUIRE_GPU=${REQUIRE_GPU:-}
if [ -z "$REQUIRE_GPU" ]; then
  case "$DEVICE" in
    cuda*) REQUIRE_GPU=1 ;;
    auto) if nvidia-smi -L > /dev/null 2>&1; then REQUIRE_GPU=1; else REQUIRE_GPU=0; fi ;;
    *) REQUIRE_GPU=0 ;;
  esac
fi

START=$(date +%s)
mkdir -p "$OUT/trial" "$OUT/cache"
OUT=$(cd "$OUT" && pwd)
cd "$(dirname "$0")"
export SWEEPD_TRIAL_ID=gpu-seed-story SWEEPD_TRIAL_DIR="$OUT/trial" SWEEPD_CONTROL_FILE="$OUT/trial/control.json" \
  SWEEPD_CACHE_DIR="$OUT/cache" PYTHONUNBUFFERED=1
{
  echo "started $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "model=$MODEL image_size=$IMAGE_SIZE head=$HEAD blocks=$BLOCKS epochs=$EPOCHS train=$TRAIN_SIZE val=$VAL_SIZE classes=$NUM_CLASSES seed=$SEED device=$DEVICE precision=$PRECISION require_gpu=$REQUIRE_GPU"
  echo "pretrain: size=$PRETRAIN_SIZE epochs=$PRETRAIN_EPOCHS batch=$PRETRAIN_BATCH classes=$SOURCE_CLASSES adam 3e-3 eps 1e-8 seed 1000"
} > "$OUT/run.txt"
nvidia-smi > "$OUT/gpu.txt" 2>&1 || echo "(no nvidia-smi)" > "$OUT/gpu.txt"
python3 -c 'import torch, sys; print("torch", torch.__version__, "cuda", torch.cuda.is_available(), torch.version.cuda, file=sys.stdout)' >> "$OUT/run.txt" 2>&1 || true
python3 -c 'import timm; print("timm", timm.__version__)' >> "$OUT/run.txt" 2> /dev/null || echo "timm not importable" >> "$OUT/run.txt"
: > "$OUT/timing.txt"

# Every report's notes say the device that trained it: a GPU asked for and not used is an error.
check_device() { # $1: metrics file, $2: what
  if [ ! -s "$1" ]; then
    echo "gpu_seed_story: $2 wrote no reports ($1); see its log" >&2
    return 1
  fi
  if [ "$REQUIRE_GPU" = 1 ] && grep -v -q '"device":"cuda' "$1"; then
    echo "gpu_seed_story: $2 did not train on the GPU (a GPU was asked for): $(grep -o '"device":"[^"]*"' "$1" | sort -u | tr '\n' ' ')" >&2
    return 1
  fi
}

run() { # $1: name; the rest: finetune.py's flags
  name=$1
  shift
  t0=$(date +%s)
  status=0
  SWEEPD_METRICS_FILE="$OUT/$name.jsonl" python3 finetune.py "$@" < /dev/null > "$OUT/$name.stdout" 2> "$OUT/$name.log" || status=$?
  echo "$name $(($(date +%s) - t0)) s exit $status" >> "$OUT/timing.txt"
  tail -n 2 "$OUT/$name.log" >&2
  if [ "$status" != 0 ]; then
    echo "gpu_seed_story: $name exited with $status (see $OUT/$name.log)" >&2
    return 1
  fi
  check_device "$OUT/$name.jsonl" "$name"
}

if [ -n "${SOURCE_DIR:-}" ]; then SOURCE="--data_dir=$SOURCE_DIR"; else
  SOURCE="--dataset=synthetic --train_size=$PRETRAIN_SIZE --val_size=$VAL_SIZE --num_classes=$SOURCE_CLASSES --synthetic_image_size=$SYNTH_SIZE"
fi
if [ -n "${TARGET_DIR:-}" ]; then TARGET="--data_dir=$TARGET_DIR"; else
  TARGET="--dataset=synthetic --train_size=$TRAIN_SIZE --val_size=$VAL_SIZE --num_classes=$NUM_CLASSES --synthetic_image_size=$SYNTH_SIZE"
fi
RUNNING="--model=$MODEL --image_size=$IMAGE_SIZE --device=$DEVICE --precision=$PRECISION --threads=$THREADS --eval_batch_size=256"

# 1. Pretraining (the synthetic set's seed is the run's: 1000 makes other blobs than the target's seed).
rm -f "$OUT/pretrained.pt"
# shellcheck disable=SC2086
run pretrain $RUNNING $SOURCE --optimizer=adam --learning_rate=3e-3 --opt_epsilon=1e-8 --learning_rate_decay_type=fixed \
  --batch_size="$PRETRAIN_BATCH" --num_epochs="$PRETRAIN_EPOCHS" --nolayer_stats --seed=1000 --save_checkpoint="$OUT/pretrained.pt"
[ -s "$OUT/pretrained.pt" ] || { echo "gpu_seed_story: pretraining saved no weights" >&2; exit 1; }

# 2. Fine-tuning: seed-story.ts's TF_SLIM flags and command, one run per config.
TF_SLIM="--batch_size=32 --weight_decay=4e-5 --rmsprop_tf1=true --rmsprop_momentum=0.9 --rmsprop_decay=0.9 \
  --learning_rate_decay_type=exponential --learning_rate_decay_factor=0.94 --num_epochs_per_decay=2"
FINETUNE="$RUNNING $TARGET $TF_SLIM --checkpoint_path=$OUT/pretrained.pt --checkpoint_exclude_scopes=$HEAD \
  --probe_size=$PROBE_SIZE --seed=$SEED --num_epochs=$EPOCHS"
failed=
while read -r key flags; do
  [ -n "$key" ] || continue
  if [ $(($(date +%s) - START)) -gt "$DEADLINE_S" ]; then
    echo "gpu_seed_story: past DEADLINE_S=$DEADLINE_S s: $key not run" | tee -a "$OUT/timing.txt" >&2
    failed="$failed $key(skipped)"
    continue
  fi
  # shellcheck disable=SC2086
  if run "$key" $FINETUNE $flags; then
    # a new head: the checkpoint was loaded, and its classifier was not
    if ! grep -q 'tensors loaded' "$OUT/$key.log" || grep -q 'tensors loaded, skipped none' "$OUT/$key.log"; then
      echo "gpu_seed_story: $key did not start from the pretrained backbone with a new head (HEAD=$HEAD): $(grep 'tensors loaded' "$OUT/$key.log")" >&2
      failed="$failed $key"
    fi
  else
    failed="$failed $key"
    # a GPU asked for and not used ends the run at once: the rest would not be the GPU version either
    if [ "$REQUIRE_GPU" = 1 ] && [ -s "$OUT/$key.jsonl" ] && grep -v -q '"device":"cuda' "$OUT/$key.jsonl"; then exit 1; fi
  fi
done << EOF
practitioner --optimizer=rmsprop --learning_rate=0.01 --opt_epsilon=1.0 --frozen_layers=0
adam --optimizer=adam --learning_rate=1e-4 --opt_epsilon=1e-8 --frozen_layers=0
adam-frozen --optimizer=adam --learning_rate=1e-4 --opt_epsilon=1e-8 --frozen_layers=$BLOCKS
rmsprop-low --optimizer=rmsprop --learning_rate=1e-4 --opt_epsilon=1.0 --frozen_layers=0
eps-small --optimizer=rmsprop --learning_rate=0.01 --opt_epsilon=1e-8 --frozen_layers=0
eps-small-high --optimizer=rmsprop --learning_rate=0.1 --opt_epsilon=1e-8 --frozen_layers=0
EOF
echo "finished $(date -u +%Y-%m-%dT%H:%M:%SZ)" >> "$OUT/run.txt"
rm -f "$OUT/pretrained.pt"  # (tens of MB for inception_v4: not worth bringing back)
rm -rf "$OUT/cache" "$OUT/trial"
cat "$OUT/timing.txt" >&2
if [ -n "$failed" ]; then
  echo "gpu_seed_story: failed:$failed" >&2
  exit 1
fi

#!/usr/bin/env bash
# The embed, measure, train and mine benchmarks on one GPU machine (H100 or H200), then the GPU-only mutants, in under 8 minutes.
# Prepared here by bench/gpu_prepare.sh (.gpu/: model skeleton, texts, faiss-cpu wheel); there:
#
#   bash bench/gpu.sh                    # results in $OUT (the device tool's folder) or runs/gpu
#
# Tested on CPU with small sizes:
#   DEVICE=cpu EMBED_TEXTS=400 MINE_ROWS=20000 MEASURE_ROWS=100 TRAIN_STEPS=3 TRAIN_BF16=0 PY=.venv/bin/python bash bench/gpu.sh
#
# 1. langgap embed vs sentence-transformers encode on 100,000 Tatoeba sentences (bench_embed.py):
#    the model is multilingual-e5-small's architecture and tokenizer with random weights (the
#    weights do not travel: 465 MiB > 64 MiB), so sentences/s and the linear layers' TFLOP/s are
#    the real model's; langgap at --precision auto (bf16 autocast on an H200) and fp32, each
#    against sentence-transformers' default fp32 encode.
# 2. langgap mine vs LASER's flat and sentence-transformers' IVF approach on 100,000 x 100,000
#    synthetic embeddings (bench_mine.py); FAISS is faiss-cpu on the machine's CPU cores (no
#    faiss-gpu wheel fits the 64 MiB), so this measures the 16-core host, not the GPU.
# 3. langgap measure vs sentence-transformers encode + argmax vs mteb on 3 Tatoeba files
#    (bench_tatoeba.py; random weights: times only, the accuracies mean nothing).
# 4. training on FLORES-length pairs (bench_train.py): langgap fp32 (one forward per batch) and
#    --mixed-precision bf16 with length buckets, against sentence-transformers' trainer fp32 and
#    bf16 (.gpu/whl brings `datasets`, which the trainer needs).
# 5. tests/gpu and the mutants only a CUDA device tells apart (bench/gpu_mutants.sh), last.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-runs/gpu}
DEVICE=${DEVICE:-cuda}
EMBED_TEXTS=${EMBED_TEXTS:-50000}
TRAIN_STEPS=${TRAIN_STEPS:-20}
TRAIN_BF16=${TRAIN_BF16:-1}  # 0 in the CPU rehearsal: bf16 training is refused on a CPU without it
MINE_ROWS=${MINE_ROWS:-100000}
PY=${PY:-python3}
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
mkdir -p "$OUT" runs
if ls .gpu/whl/*.whl >/dev/null 2>&1 && ! "$PY" -c "import faiss, pytest" 2>/dev/null; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .gpu/whl/*.whl
  export PYTHONPATH=/tmp/site:src
else
  export PYTHONPATH=${PYTHONPATH:+$PYTHONPATH:}src
fi
{ nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv 2>/dev/null || echo "no nvidia-smi";
  "$PY" -c "import torch, os; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'cpus', os.cpu_count())"; } \
  | tee "$OUT/machine.txt"

# random weights of the real shapes, written once into the skeleton folder
MODEL=/tmp/e5-random
if [ ! -f "$MODEL/model.safetensors" ]; then
  rm -rf "$MODEL" && cp -r .gpu/model "$MODEL"
  "$PY" - "$MODEL" <<'PYEOF' || exit 1
import sys, torch
from transformers import AutoConfig, AutoModel
path = sys.argv[1]
torch.manual_seed(0)
model = AutoModel.from_config(AutoConfig.from_pretrained(path))
model.save_pretrained(path)
print(f"{path}: random weights, {sum(p.numel() for p in model.parameters()):,} parameters")
PYEOF
fi

step() {  # step NAME SECONDS CMD...: run with a time limit, keep going on failure
  local name=$1 limit=$2; shift 2
  echo "== $name (limit ${limit}s)"
  local t0=$SECONDS
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
  echo "   exit $? after $((SECONDS - t0))s"; tail -n 25 "$OUT/$name.log"
}
step embed_auto 75 "$PY" bench/bench_embed.py --model "$MODEL" --texts .gpu/texts.txt --limit "$EMBED_TEXTS" \
  --batch-size 256 --rows-per-shard 20000 --repeat 2 --device "$DEVICE" --precision auto --json "$OUT/embed_auto.json"
step embed_fp32 50 "$PY" bench/bench_embed.py --model "$MODEL" --texts .gpu/texts.txt --limit "$EMBED_TEXTS" \
  --batch-size 256 --rows-per-shard 20000 --repeat 1 --device "$DEVICE" --precision fp32 --json "$OUT/embed_fp32.json"
step measure 40 "$PY" bench/bench_tatoeba.py --model "$MODEL" --files .gpu/tatoeba/*.tsv --batch-size 256 --methods langgap sentence-transformers \
  --device "$DEVICE" --repeat 1 ${MEASURE_ROWS:+--limit $MEASURE_ROWS} --json "$OUT/measure.json"
step train 130 "$PY" bench/bench_train.py --model "$MODEL" --pairs .gpu/pairs/*.tsv --max-length 128 \
  --steps "$TRAIN_STEPS" --repeat 1 --variant b2:length_buckets=2 \
  $([ "$TRAIN_BF16" = 1 ] && echo --variant bf16:length_buckets=2,mixed_precision=bf16 --st-bf16) --json "$OUT/train.json"
step mine 110 "$PY" bench/bench_mine.py --n "$MINE_ROWS" --sample 1000 --json "$OUT/mine.json"
step gpu_mutants 70 env PYTHON="$PY" bash bench/gpu_mutants.sh
ls -la "$OUT"

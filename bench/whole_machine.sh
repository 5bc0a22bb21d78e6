#!/usr/bin/env bash
# Issue 20's benchmark rows, one after another in one run, on a quiet machine (run nothing else
# beside it). Writes runs/whole-machine/*.json; docs/benchmarks.md "Using the whole machine" has
# the figures of one run and how to read them.
#   bash bench/whole_machine.sh                     # every row but mining at 1M
#   MINE_1M=1 bash bench/whole_machine.sh mine      # ... one step (precision measure st_backends embed train mine)
#   STVENV=/tmp/stvenv bash bench/whole_machine.sh st_backends   # sentence-transformers' onnx/openvino
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
R=${OUT:-runs/whole-machine}
T=../shared/data/tatoeba
mkdir -p "$R"
native=$(python -c "from langgap.encoders.precision import native_cpu; print(int(native_cpu('bf16')))")

precision() { python bench/bench_precision.py --json $R/precision.json; }

measure() {  # langgap measure (no cache) vs ST fp32 encode + argmax vs mteb, 3 Tatoeba files
  python bench/bench_tatoeba.py --files $T/deu-eng.tsv $T/fra-eng.tsv $T/cmn-eng.tsv --repeat 2 \
    --json $R/measure.json
}

st_backends() {  # needs a venv where sentence-transformers' [onnx,openvino] extras install
  [ -n "${STVENV:-}" ] || { echo "st_backends: set STVENV (see bench/bench_st_backends.py)" >&2; return 0; }
  "$STVENV/bin/python" bench/bench_st_backends.py --repeat 2 --json $R/st_backends.json
}

embed() { python bench/bench_embed.py --limit 50000 --repeat 1 --json $R/embed.json; }

train() {  # FLORES-length pairs (bench/experiments_many.sh data writes runs/exp-e/flores_train)
  [ -d runs/exp-e/flores_train ] || python bench/many_languages_data.py runs/exp-e
  mkdir -p runs/bench-flores
  for l in arb_Arab deu_Latn fra_Latn hin_Deva swh_Latn tur_Latn zho_Hans; do
    paste runs/exp-e/flores_train/$l.txt runs/exp-e/flores_train/eng_Latn.txt > runs/bench-flores/${l%%_*}-eng.tsv
  done
  local extra=()
  [ "$native" = 1 ] && extra=(--variant bf16:length_buckets=2,mixed_precision=bf16 --st-bf16)
  python bench/bench_train.py --pairs runs/bench-flores/*.tsv --max-length 128 --steps 20 --repeat 1 \
    --variant b2:length_buckets=2 --variant f4:length_buckets=2,freeze_layers=4 \
    --variant f6:length_buckets=2,freeze_layers=6 --variant fe:freeze_embeddings=true,length_buckets=1 \
    --variant fe-b2:freeze_embeddings=true,length_buckets=2 "${extra[@]}" --json $R/train.json
}

mine() {
  python bench/bench_mine.py --n 100000 --methods langgap st --data runs/mine100k --json $R/mine_100k.json
  python bench/bench_mine.py --n 100000 --index ivf --methods langgap st --data runs/mine100k \
    --json $R/mine_100k_ivf.json
  if [ "${MINE_1M:-0}" = 1 ]; then
    python bench/bench_mine.py --n 1000000 --methods langgap st --data runs/mine1m --json $R/mine_1m.json
  fi
}

echo "native bf16: $native; $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for step in "${@:-precision measure st_backends embed train mine}"; do
  for s in $step; do
    t0=$SECONDS
    $s
    echo "whole_machine: $s took $((SECONDS - t0)) s" >&2
  done
done

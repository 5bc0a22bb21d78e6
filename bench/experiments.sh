#!/usr/bin/env bash
# The runs behind docs/experiments.md: small-scale CPU reproductions of
#   a. Jina AI's ablation: 0% vs 20% cross-language pairs (multilingual-e5-small),
#   b. Park et al. 2024: hard InfoNCE vs soft (priority / average, with and without TCM) vs MSE,
#   c. Reimers & Gurevych 2020: MSE distillation teaching all-MiniLM-L6-v2 German and French.
# Run from the repository root after `bash scripts/setup.sh`; writes under runs/exp/ and
# appends "name<TAB>seconds" per step to runs/exp/times.tsv.
# Usage: bash bench/experiments.sh [STEP ...]   (default: all; steps: data base a b c compare)
#        SEED=1 bash bench/experiments.sh a compare   (a and b runs again with another seed)
set -euo pipefail
. .venv/bin/activate
D=../shared/data
X=runs/exp
ME5=intfloat/multilingual-e5-small
MINI=sentence-transformers/all-MiniLM-L6-v2
SEED=${SEED:-0}
STEPS=${STEPS:-80}          # optimizer steps per e5 run (batch 32: 2,560 pairs seen)
SUF=""; [ "$SEED" = 0 ] || SUF="-seed$SEED"   # runs with another seed: a-cross0-seed1, ...
mkdir -p $X/data/c

# Evaluation data, never trained on: Tatoeba (deu, fra trained languages; ces, arz not) and STS17.
EVAL="--bitext $D/tatoeba/deu-eng.tsv --bitext $D/tatoeba/fra-eng.tsv --bitext $D/tatoeba/ces-eng.tsv"
EVAL="$EVAL --bitext $D/tatoeba/arz-eng.tsv --sample"
for f in en-en es-es ar-ar en-de fr-en es-en it-en nl-en; do EVAL="$EVAL --sts $D/sts17/$f.tsv"; done
# Training-time evaluation (start and end) and the English guard.
WATCH="--eval-bitext $D/tatoeba/deu-eng.tsv --eval-sts $D/sts17/en-de.tsv --english-guard $D/sts17/en-en.tsv"
COMMON="--max-length 64 --batch-size 32 --seed $SEED --save-every 0 --quiet"

. "$(dirname "$0")/timed.sh"

data() {
  # Cross-language pairs: Multi30k train, en-de lines 1-1500 and en-fr lines 1501-3000 (so the
  # English sides differ). Same-language pairs (for the 0% run): STS-B multi-MT train pairs with
  # gold >= 4.0 of 5, in English, German and French (anchor<TAB>positive).
  head -1500 $D/multi30k/train/en-de.tsv > $X/data/en-de.tsv
  sed -n 1501,3000p $D/multi30k/train/en-fr.tsv > $X/data/en-fr.tsv
  for l in en de fr; do
    awk -F'\t' '$1 >= 4.0 {print $2 "\t" $3}' $D/stsb_multi_mt/$l-train.tsv > $X/data/$l.tsv
  done
  # Experiment c: more pairs (MiniLM is about 5x cheaper per step), other lines again.
  sed -n 3001,8000p $D/multi30k/train/en-de.tsv > $X/data/c/en-de.tsv
  sed -n 8001,13000p $D/multi30k/train/en-fr.tsv > $X/data/c/en-fr.tsv
  python bench/overlap.py --train $X/data/*.tsv $X/data/c/*.tsv --eval $D/tatoeba/{deu,fra,ces,arz}-eng.tsv \
    $D/sts17/{en-en,es-es,ar-ar,en-de,fr-en,es-en,it-en,nl-en}.tsv --sample > $X/overlap.md
}

base() {
  timed measure-me5 langgap measure --model $ME5 $EVAL --out $X/me5-base -q
  timed measure-minilm langgap measure --model $MINI $EVAL --out $X/minilm-base -q
}

train_me5() {  # train_me5 NAME ARGS...: train from e5 for $STEPS steps, then measure the result
  local name=$1$SUF; shift
  timed train-$name langgap train --model $ME5 --prompt "query: " --freeze-embeddings \
    --max-steps $STEPS $COMMON $WATCH "$@" --out $X/$name
  timed measure-$name langgap measure --model $X/$name/model $EVAL --out $X/$name/measure -q
}

a() {
  local pairs="--pairs $X/data/en-de.tsv --pairs $X/data/en-fr.tsv"
  local mono="--mono-pairs $X/data/en.tsv --mono-pairs $X/data/de.tsv --mono-pairs $X/data/fr.tsv"
  train_me5 a-cross0 --objective infonce $pairs $mono --cross-lingual-fraction 0.0
  train_me5 a-cross20 --objective infonce $pairs $mono --cross-lingual-fraction 0.2
}

b() {
  local pairs="--pairs $X/data/en-de.tsv --pairs $X/data/en-fr.tsv"
  train_me5 b-infonce --objective infonce $pairs
  for labels in priority average; do
    train_me5 b-soft-$labels --objective soft --labels $labels --teacher SAME $pairs
    train_me5 b-soft-$labels-tcm --objective soft --labels $labels --teacher SAME --tcm-weight 1.0 $pairs
  done
  train_me5 b-mse --objective mse --teacher SAME $pairs
}

c() {
  timed train-c-minilm-mse langgap train --model $MINI --objective mse --teacher SAME \
    --pairs $X/data/c/en-de.tsv --pairs $X/data/c/en-fr.tsv --epochs 1 --lr 5e-5 $COMMON $WATCH \
    --out $X/c-minilm-mse
  timed measure-c-minilm-mse langgap measure --model $X/c-minilm-mse/model $EVAL --out $X/c-minilm-mse/measure -q
}

compare() {
  for r in a-cross0 a-cross20 b-infonce b-soft-priority b-soft-priority-tcm b-soft-average \
      b-soft-average-tcm b-mse; do
    for d in $X/$r $X/$r-seed*; do
      if [ -f $d/measure/results.json ]; then
        langgap compare $X/me5-base $d/measure --out $X/cmp-${d##*/} -q
      fi
    done
  done
  if [ -f $X/c-minilm-mse/measure/results.json ]; then
    langgap compare $X/minilm-base $X/c-minilm-mse/measure --out $X/cmp-c-minilm-mse -q
  fi
  # each group side by side (table.md / table.html: values, differences with intervals, seeds, ranking)
  langgap table $X/a-*/measure --baseline $X/me5-base --group-seeds --out $X/table-a -q
  langgap table $X/b-*/measure --baseline $X/me5-base --out $X/table-b -q
  langgap table $X/c-minilm-mse/measure --baseline $X/minilm-base --out $X/table-c -q
  python bench/experiments_tables.py $X > $X/tables.md   # the docs' tables, built on langgap.table
}

for step in "${@:-data base a b c compare}"; do
  for s in $step; do $s; done
done

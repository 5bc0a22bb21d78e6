#!/usr/bin/env bash
# Experiment d (docs/experiments.md): teach the English all-MiniLM-L6-v2 German, French, Russian
# and Chinese with MSE distillation (teacher: MiniLM itself), with and without a vocabulary
# transplant to multilingual-e5-small's tokenizer (--tokenizer, --trim-vocab); same data, steps
# and seed. How much of experiment c's shortfall was the tokenizer?
# Usage: [STEPS=150] bash bench/experiment_d.sh [STEP ...]   (steps: data tokens base train measure compare)
set -euo pipefail
. .venv/bin/activate
D=../shared/data
X=runs/exp-d
MINI=sentence-transformers/all-MiniLM-L6-v2
ME5=intfloat/multilingual-e5-small
mkdir -p $X/data $X/eval
FL=eng_Latn,deu_Latn,fra_Latn,rus_Cyrl,zho_Hans,ukr_Cyrl,spa_Latn,jpn_Jpan,arb_Arab,hin_Deva,amh_Ethi
EVAL="--sample --multiway $D/flores200_sib/dev --langs $FL"
for t in deu fra rus cmn ukr ell hin; do EVAL="$EVAL --bitext $D/tatoeba/$t-eng.tsv"; done
for f in en-en en-de fr-en es-en ar-ar es-es; do EVAL="$EVAL --sts $D/sts17/$f.tsv"; done
COMMON="--model $MINI --objective mse --teacher SAME --epochs 1 --lr 5e-5 --batch-size 32 --max-length 64"
COMMON="$COMMON --seed 0 --save-every 0 --quiet --english-guard $D/sts17/en-en.tsv"
# STEPS=N: stop after N optimizer steps of 32 pairs (the docs' run: STEPS=150, 4,800 of the 20,000 pairs;
# one full epoch is 624 steps, about 80 minutes per run on 2 shared cores)
COMMON="$COMMON ${STEPS:+--max-steps $STEPS}"

. "$(dirname "$0")/timed.sh"

data() {
  # 5,000 pairs each: Multi30k en-de and en-fr (other lines than experiments a-c), and STS-B
  # multi-MT train sentences (machine translations, row-aligned with English) for Russian and Chinese
  sed -n 13001,18000p $D/multi30k/train/en-de.tsv > $X/data/en-de.tsv
  sed -n 18001,23000p $D/multi30k/train/en-fr.tsv > $X/data/en-fr.tsv
  for l in ru zh; do
    paste <(cut -f2 $D/stsb_multi_mt/en-train.tsv) <(cut -f2 $D/stsb_multi_mt/$l-train.tsv) > $X/data/a.tmp
    paste <(cut -f3 $D/stsb_multi_mt/en-train.tsv) <(cut -f3 $D/stsb_multi_mt/$l-train.tsv) >> $X/data/a.tmp
    head -5000 $X/data/a.tmp > $X/data/en-$l.tsv
  done
  rm -f $X/data/a.tmp
  # the evaluation sets as training-time evaluation files: their tokens are kept by --trim-vocab
  # (rows initialised by the transplant, never trained), and both runs watch the same files
  WATCH=""
  for t in deu fra rus cmn ukr ell hin; do WATCH="$WATCH --eval-bitext $D/tatoeba/$t-eng.tsv"; done
  for l in ${FL//,/ }; do
    [ $l = eng_Latn ] || paste $D/flores200_sib/dev/$l.txt $D/flores200_sib/dev/eng_Latn.txt > $X/eval/$l-eng_Latn.tsv
    [ $l = eng_Latn ] || WATCH="$WATCH --eval-bitext $X/eval/$l-eng_Latn.tsv"
  done
  for f in en-en en-de fr-en es-en ar-ar es-es; do WATCH="$WATCH --eval-sts $D/sts17/$f.tsv"; done
  echo "$WATCH" > $X/watch.args
}

tokens() {
  timed tokens-minilm langgap tokens --model $MINI --multiway $D/flores200_sib/dev --langs $FL --out $X/tokens-minilm -q
  timed tokens-me5 langgap tokens --model $ME5 --multiway $D/flores200_sib/dev --langs $FL --out $X/tokens-me5 -q
}

base() { timed measure-base langgap measure --model $MINI $EVAL --out $X/base -q; }

train() {
  local pairs="--pairs $X/data"
  timed train-mse langgap train $COMMON $pairs $(cat $X/watch.args) --out $X/mse
  timed train-mse-transplant langgap train $COMMON $pairs $(cat $X/watch.args) \
    --tokenizer $ME5 --trim-vocab --out $X/mse-transplant
}

measure() {
  for r in mse mse-transplant; do
    timed measure-$r langgap measure --model $X/$r/model $EVAL --out $X/$r/measure -q
  done
  timed tokens-transplant langgap tokens --model $X/mse-transplant/model --multiway $D/flores200_sib/dev \
    --langs $FL --out $X/tokens-transplant -q
}

compare() {
  langgap compare $X/base $X/mse/measure --out $X/cmp-mse -q
  langgap compare $X/base $X/mse-transplant/measure --out $X/cmp-mse-transplant -q
  langgap compare $X/mse/measure $X/mse-transplant/measure --out $X/cmp-transplant-vs-mse -q
  langgap table $X/mse/measure $X/mse-transplant/measure --baseline $X/base --out $X/table -q
  python bench/experiment_d_tables.py $X > $X/tables.md   # the docs' tables, built on langgap.table
}

for step in "${@:-data tokens base train measure compare}"; do
  for s in $step; do $s; done
done

#!/usr/bin/env bash
# The runs behind docs/gallery.md (and the no-prefix row of docs/results.md).
# Run from the repository root after `bash scripts/setup.sh`; writes under runs/.
set -euo pipefail
. .venv/bin/activate
D=../shared/data
B=""; for f in $D/tatoeba/*.tsv; do B="$B --bitext $f"; done
FL=eng_Latn,deu_Latn,fra_Latn,spa_Latn,rus_Cyrl,zho_Hans,jpn_Jpan,arb_Arab,hin_Deva,tur_Latn,swh_Latn,yor_Latn,amh_Ethi,khm_Khmr,zul_Latn,quy_Latn
ME5=intfloat/multilingual-e5-small
MINI=sentence-transformers/all-MiniLM-L6-v2
t() { /usr/bin/time -f "%e s wall" "$@"; }
for model in $ME5 $MINI; do
  name=$(basename $model)
  for adapt in none center procrustes; do
    extra=""; [ $adapt = none ] || extra="--adapt $adapt"
    t langgap measure --model $model --sample --multiway $D/flores200_sib/dev --langs $FL $extra \
      --out runs/gallery/$name-$adapt -q
  done
done
t langgap measure --model $MINI $B --out runs/minilm-tatoeba -q
t langgap compare runs/me5-all runs/minilm-tatoeba --out runs/gallery/me5-vs-minilm-tatoeba -q
t langgap measure --model $ME5 --prompt "" $B --out runs/me5-tatoeba-noprompt -q

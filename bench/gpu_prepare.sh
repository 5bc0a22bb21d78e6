#!/usr/bin/env bash
# Prepare what bench/gpu.sh needs on the GPU machine, which reaches no network and gets only the
# working tree (64 MiB): run here, from the repo root, before the device call; everything lands in
# .gpu/ (ignored by git, named in the device call's `carry`).
#
#   bash bench/gpu_prepare.sh            # then: device run "bash bench/gpu.sh" with carry [".gpu"]
#
# .gpu/model/    the multilingual-e5-small folder without its weights (config, tokenizer, pooling):
#                gpu.sh fills it with random weights of the same shapes, so throughput is the real
#                model's (same architecture, same tokenizer, same token counts) but outputs are not
# .gpu/texts.txt 100,000 Tatoeba sentences of every language pair, mixed (as bench/bench_embed.py)
# .gpu/whl/      faiss-cpu for the machine's Python 3.12 (its image has no FAISS), pytest for tests/gpu,
#                datasets (with dill, multiprocess) for sentence-transformers' trainer
# .gpu/tatoeba/  3 Tatoeba files (deu, fra, cmn) for the measure row
# .gpu/pairs/    FLORES-length training pairs (408 FLORES dev rows of 7 languages with English)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
MODEL=${MODEL:-$HOME/.cache/langgap/models/multilingual-e5-small}
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
rm -rf .gpu && mkdir -p .gpu/model .gpu/whl
(cd "$MODEL" && find . -mindepth 1 -type d -exec mkdir -p "$OLDPWD/.gpu/model/{}" \;)
(cd "$MODEL" && find . -type f ! -name 'model.safetensors' ! -name '.materialized.json' -print0 \
    | xargs -0 -I{} cp --parents {} "$OLDPWD/.gpu/model/")
"$PY" - <<'PYEOF'
import sys
sys.path.insert(0, "bench")
from bench_embed import tatoeba_texts
texts = tatoeba_texts(100_000)
open(".gpu/texts.txt", "w", encoding="utf-8").write("".join(t.replace("\n", " ") + "\n" for t in texts))
print(f".gpu/texts.txt: {len(texts):,} sentences")
PYEOF
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d .gpu/whl "faiss-cpu==1.13.2" 2>/dev/null \
  || "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d .gpu/whl faiss-cpu
# pure-Python wheels: pytest and its dependencies (the image may lack them), for gpu.sh step 3
"$PY" -m pip download -q --no-deps --only-binary=:all: -d .gpu/whl pytest pluggy iniconfig pygments packaging
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    -d .gpu/whl datasets dill multiprocess  # multiprocess has one wheel per Python: the machine runs 3.12
mkdir -p .gpu/tatoeba .gpu/pairs
cp ../shared/data/tatoeba/{deu,fra,cmn}-eng.tsv .gpu/tatoeba/
[ -d runs/exp-e/flores_train ] || "$PY" bench/many_languages_data.py runs/exp-e
for l in arb_Arab deu_Latn fra_Latn hin_Deva swh_Latn tur_Latn zho_Hans; do
  paste runs/exp-e/flores_train/$l.txt runs/exp-e/flores_train/eng_Latn.txt > .gpu/pairs/${l%%_*}-eng.tsv
done
du -sh .gpu .gpu/*

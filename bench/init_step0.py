"""Issue 25, step 0: an English model given multilingual-e5-small's tokenizer, before any training.

all-MiniLM-L6-v2 (English WordPiece, 30,522 pieces) gets e5's tokenizer (250,002 pieces, trimmed
to the evaluation texts' pieces) with its new rows made three ways — FVT means (``--init mean``),
e5's own input rows through a least-squares map and through a scaled orthogonal map fitted on
the pieces both vocabularies share (``--init mapped --init-from intfloat/multilingual-e5-small
--init-map lstsq|orthogonal``) — and is measured on FLORES dev (every language against English:
accuracy both directions, xSIM) with no training step, beside the model as it is.

    python bench/init_step0.py OUT.json

Languages: six whose scripts MiniLM cannot read (Arabic, Hebrew, Japanese, Korean, Chinese,
Amharic) and four it can (German, French, Turkish, Swahili), as issue 25 names them.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from langgap.encoders.st import SentenceTransformerEncoder
from langgap.measuring import load_tasks, measure
from langgap.tasks import multiway_task
from langgap.training.transplant import transplant

FLORES = Path(__file__).resolve().parents[2] / "shared" / "data" / "flores200_sib" / "dev"
LANGS = ["eng_Latn", "arb_Arab", "heb_Hebr", "jpn_Jpan", "kor_Hang", "zho_Hans", "amh_Ethi"]
LANGS += ["deu_Latn", "fra_Latn", "tur_Latn", "swh_Latn"]
ENGLISH, MULTI = "sentence-transformers/all-MiniLM-L6-v2", "intfloat/multilingual-e5-small"


def main(out: Path) -> None:
    loaded = load_tasks([multiway_task(str(FLORES), ",".join(LANGS))])
    texts = [t for _, corpus in loaded for t in corpus.all_texts()]
    source = SentenceTransformerEncoder(MULTI).model
    record: dict[str, dict] = {}
    for init in ("as it is", "mean", "mapped lstsq", "mapped orthogonal"):
        t0 = time.perf_counter()
        encoder = SentenceTransformerEncoder(ENGLISH, prompt="", backend="torch", precision="fp32")
        stats = None
        if init != "as it is":
            mapped = init.startswith("mapped")
            how = init.split()[-1] if mapped else "lstsq"
            stats = transplant(
                encoder.model, MULTI, texts, source=source if mapped else None, source_name=MULTI, how=how
            )
        res = measure(encoder, loaded, projection_points=0)
        pairs = res.tasks[0].per_pair
        per_lang = {}
        for lang in LANGS[1:]:
            pair = next(p for p in pairs if set(p.split("-", 1)) == {lang, "eng_Latn"})
            m = pairs[pair]
            xsim = (m["xsim_error_src2tgt"] + m["xsim_error_tgt2src"]) / 2
            per_lang[lang] = {
                "accuracy": (m["accuracy_src2tgt"] + m["accuracy_tgt2src"]) / 2,
                "xsim_error": xsim,
            }
        record[init] = {
            "languages": per_lang,
            "transplant": stats.__dict__ if stats else None,
            "seconds": time.perf_counter() - t0,
        }
        print(init, json.dumps({k: round(v["accuracy"], 3) for k, v in per_lang.items()}), flush=True)
    out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]))

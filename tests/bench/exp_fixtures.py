"""Small but real experiment folders in the layouts the ``bench/*_tables.py`` scripts read.

Every ``results.json`` is a real ``measure`` run (the toy encoder of conftest, one gap and noise per
run, on tiny Tatoeba-, STS17- and FLORES-like files named as in the experiments); every
``compare.json`` is what ``langgap compare`` writes; training folders carry a ``langgap train``
``config.json`` and ``eval_history.jsonl``. Layouts: ``bench/experiments.sh`` (``runs/exp``),
``bench/experiments_many.sh`` (``runs/exp-e``), ``bench/experiment_d.sh`` (``runs/exp-d``) and one
``langgap measure`` run for ``bench/results_tables.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from conftest import ToyEncoder, write_bitext, write_multiway
from langgap.comparison import compare
from langgap.measuring import measure
from langgap.tasks import bitext_task, multiway_task, sample_task, sts_task

STS_MONO = ["en-en", "es-es", "ar-ar"]
STS_CROSS = ["en-de", "fr-en", "es-en", "it-en", "nl-en"]


def _sts(folder: Path, name: str, n: int = 20) -> Path:
    a, b = name.split("-")[:2]
    rng = np.random.default_rng(len(name))
    path = folder / f"{name}.tsv"
    path.write_text(
        "".join(f"{rng.uniform(0, 5):.2f}\t{a}:{i}\t{b}:{i + (i % 3)}\n" for i in range(n)), "utf-8"
    )
    return path


def _bitexts(folder: Path, codes: list[str], n: int = 30) -> list:
    return [
        bitext_task(write_bitext(folder / f"{c}-eng.tsv", c, "eng", n - 3 * i)) for i, c in enumerate(codes)
    ]


def _train_config(folder: Path, seed: int, **settings: object) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    record = {
        "format": "langgap.train-config/1",
        "model": "base",
        "seed": seed,
        "out": str(folder),
        **settings,
    }
    (folder / "config.json").write_text(json.dumps(record), encoding="utf-8")


def _history(folder: Path, start: float, end: float) -> None:
    lines = [
        {"step": 0, "english_guard": {"value": start, "warning": False}},
        {"step": 80, "english_guard": {"value": end, "warning": end < start - 0.02}},
    ]
    (folder / "eval_history.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")


def _compare(a: Path, b: Path, out: Path) -> None:
    out.mkdir(parents=True)
    cmp = compare(a, b)
    (out / "compare.json").write_text(json.dumps(cmp.to_json(), indent=2) + "\n", encoding="utf-8")


def build_exp(root: Path) -> Path:
    """``runs/exp`` of ``bench/experiments.sh``: group a with a seed-1 repeat, c, and b without
    runs (only its baseline row)."""
    d, x = root / "data", root / "exp"
    d.mkdir(parents=True)
    tasks = [
        *_bitexts(d, ["deu", "fra", "ces", "arz"]),
        *[sts_task(_sts(d, s)) for s in STS_MONO + STS_CROSS],
    ]
    tasks.append(sample_task())
    measure(ToyEncoder(gap=0.8, noise=1.3), tasks).save(x / "me5-base")
    measure(ToyEncoder(gap=2.0, noise=1.6), tasks).save(x / "minilm-base")
    runs = {
        "a-cross0": (0.6, 1.2, 0, "me5-base"),
        "a-cross0-seed1": (0.6, 1.25, 1, "me5-base"),
        "a-cross20": (0.4, 1.1, 0, "me5-base"),
        "c-minilm-mse": (1.5, 1.4, 0, "minilm-base"),
    }
    times = []
    for i, (name, (gap, noise, seed, base)) in enumerate(runs.items()):
        _train_config(x / name, seed, objective=name.split("-seed")[0])
        _history(x / name, 0.866, 0.866 + 0.01 * (i - 2))
        measure(ToyEncoder(gap=gap, noise=noise), tasks).save(x / name / "measure")
        _compare(x / base, x / name / "measure", x / f"cmp-{name}")
        times.append(f"train-{name}\t{300 + i}\nmeasure-{name}\t{60 + i}\n")
    (x / "times.tsv").write_text("".join(times), encoding="utf-8")
    return x


FLORES = {"trained_eval": ["fin_Latn", "nld_Latn"], "held_out": ["hun_Latn", "khm_Khmr"]}
TATOEBA = {"trained": ["fin", "nld"], "held_out": ["hun", "khm"], "outside": ["lat", "nds"]}


def build_exp_e(root: Path) -> Path:
    """``runs/exp-e`` of ``bench/experiments_many.sh``: base, pilot and recipe with seeds 0 and 1."""
    d, x = root / "data", root / "exp-e"
    d.mkdir(parents=True)
    flores = ["eng_Latn", *FLORES["trained_eval"], *FLORES["held_out"]]
    tasks = [
        *_bitexts(d, [c for codes in TATOEBA.values() for c in codes]),
        multiway_task(write_multiway(d / "flores_eval", flores, 30), ",".join(flores)),
        *[sts_task(_sts(d, s)) for s in ["en-en", "ar-ar", "en-de", "es-en"]],
    ]
    x.mkdir(parents=True)
    (x / "langs.json").write_text(json.dumps({**FLORES, "tatoeba": TATOEBA}), encoding="utf-8")
    measure(ToyEncoder(gap=0.8, noise=1.3), tasks).save(x / "base")
    times = []
    for name, gap, steps in (("pilot", 0.5, 150), ("recipe", 0.4, 300)):
        for seed in (0, 1):
            run = x / f"{name}-s{seed}"
            _train_config(run, seed, max_steps=steps)
            measure(ToyEncoder(gap=gap, noise=1.1 + 0.05 * seed), tasks).save(run / "measure")
            _compare(x / "base", run / "measure", x / f"cmp-{name}-s{seed}")
            times.append(f"train-{name}-s{seed}\t{steps * 3 + seed}\n")
    (x / "times.tsv").write_text("".join(times), encoding="utf-8")
    return x


D_TATOEBA = ["deu", "fra", "rus", "cmn", "ukr", "ell", "hin"]
D_FLORES = ["eng_Latn", "deu_Latn", "fra_Latn", "rus_Cyrl", "zho_Hans", "ukr_Cyrl", "spa_Latn", "jpn_Jpan"]
D_FLORES += ["arb_Arab", "hin_Deva", "amh_Ethi"]


def build_exp_d(root: Path) -> Path:
    """``runs/exp-d`` of ``bench/experiment_d.sh``: base, mse and mse-transplant, their compares,
    the tokens files and the models' config.json."""
    d, x = root / "data", root / "exp-d"
    d.mkdir(parents=True)
    tasks = [
        multiway_task(write_multiway(d / "dev", D_FLORES, 20), ",".join(D_FLORES)),
        *_bitexts(d, D_TATOEBA),
        *[sts_task(_sts(d, s)) for s in ["en-en", "en-de", "fr-en", "es-en", "ar-ar", "es-es"]],
    ]
    measure(ToyEncoder(gap=2.0, noise=1.6), tasks).save(x / "base")
    for i, (name, gap) in enumerate((("mse", 1.5), ("mse-transplant", 1.7))):
        _train_config(x / name, 0, tokenizer=None if i == 0 else "e5")
        measure(ToyEncoder(gap=gap, noise=1.4), tasks).save(x / name / "measure")
        (x / name / "model").mkdir()
        (x / name / "model" / "config.json").write_text(
            json.dumps({"vocab_size": 30522 + 25564 * i}), "utf-8"
        )
    _compare(x / "base", x / "mse" / "measure", x / "cmp-mse")
    _compare(x / "base", x / "mse-transplant" / "measure", x / "cmp-mse-transplant")
    _compare(x / "mse" / "measure", x / "mse-transplant" / "measure", x / "cmp-transplant-vs-mse")
    for i, name in enumerate(("tokens-minilm", "tokens-transplant")):
        langs = {
            lang: {"fertility": 1.2 + 0.1 * j + i, "unk_rate": 0.01 * j * (1 - i)}
            for j, lang in enumerate(D_FLORES)
        }
        (x / name).mkdir()
        (x / name / "tokens.json").write_text(json.dumps({"languages": langs}), encoding="utf-8")
    (x / "times.tsv").write_text("train-mse\t1596\ntrain-mse-transplant\t579\n", encoding="utf-8")
    return x


def build_measure_run(root: Path) -> Path:
    """One ``langgap measure`` run with bitext, STS and FLORES tasks (``bench/results_tables.py``)."""
    d = root / "data"
    d.mkdir(parents=True)
    flores = ["eng_Latn", "deu_Latn", "fra_Latn", "jpn_Jpan"]
    tasks = [
        *_bitexts(d, ["deu", "fra", "ces"]),
        *[sts_task(_sts(d, s)) for s in ["en-en", "en-de", "ar-ar"]],
        multiway_task(write_multiway(d / "flores", flores, 30), ",".join(flores)),
    ]
    measure(ToyEncoder(gap=0.8, noise=1.3), tasks).save(root / "me5-all")
    published = {
        "tatoeba": {"deu-eng": {"accuracy": 0.99}},
        "sts17": {"en-de": {"cosine_spearman": 0.8, "revision": "fd1525abc"}},
        "flores": {"deu_Latn-eng_Latn": {"accuracy": 0.97}},
    }
    (root / "published.json").write_text(json.dumps(published), encoding="utf-8")
    return root / "me5-all"


def build_exp_f(root: Path) -> Path:
    """``runs/exp-e`` as ``bench/experiments_many.sh guard merge mono`` leaves it: base, v1
    (``guard-s0``) and one merge, each measured on experiment e's tasks and on same-language STS
    files (``mono``, ``base-mono``)."""
    d, x = root / "data", root / "exp-e"
    d.mkdir(parents=True)
    flores = ["eng_Latn", *FLORES["trained_eval"], *FLORES["held_out"]]
    tasks = [
        *_bitexts(d, [c for codes in TATOEBA.values() for c in codes]),
        multiway_task(write_multiway(d / "flores_eval", flores, 30), ",".join(flores)),
        *[sts_task(_sts(d, s)) for s in ["en-en", "ar-ar", "es-es", "en-de"]],
    ]
    mono = [sts_task(_sts(d, s)) for s in ["en-en", "ar-ar", "es-es"]]
    x.mkdir(parents=True)
    (x / "langs.json").write_text(json.dumps({**FLORES, "tatoeba": TATOEBA}), encoding="utf-8")
    measure(ToyEncoder(gap=0.8, noise=1.3), tasks).save(x / "base")
    measure(ToyEncoder(gap=0.8, noise=1.3), mono).save(x / "base-mono")
    for name, gap in (("guard-s0", 0.4), ("merge0.5-s0", 0.6)):
        measure(ToyEncoder(gap=gap, noise=1.1), tasks).save(x / name / "measure")
        measure(ToyEncoder(gap=gap, noise=1.2), mono).save(x / name / "mono")
    return x


def build_exp_g(root: Path) -> Path:
    """``runs/exp-g/eng`` as ``bench/experiment_mined.sh`` leaves it: base, the two mined rounds and
    gold, each measured on FLORES-like rows and STS17 en-en, and the rounds' ``mine.json``."""
    d, x = root / "data", root / "exp-g" / "eng"
    d.mkdir(parents=True)
    langs = ["eng_Latn", "hau_Latn", "yor_Latn"]
    tasks = [
        multiway_task(write_multiway(d / "flores_eval", langs, 40), ",".join(langs)),
        sts_task(_sts(d, "en-en")),
    ]
    (x / "dev").mkdir(parents=True)
    for code in ("hau", "pcm", "yor"):  # pcm: no FLORES rows, left out of the accuracy table
        (x / "dev" / f"{code}-eng.tsv").write_text("a\tb\n", encoding="utf-8")
    measure(ToyEncoder(gap=0.9, noise=1.4), tasks).save(x / "base")
    runs = {"mined/rounds/round-1": (0.6, 1.3), "mined/rounds/round-2": (0.5, 1.2), "gold-run": (0.3, 1.1)}
    for path, (gap, noise) in runs.items():
        measure(ToyEncoder(gap=gap, noise=noise), tasks).save(x / path / "measure")
    for k in (1, 2):
        meta = {
            code: {
                "distinct": 100 + i,
                "kept": 40 * k + i,
                "dev": {"precision": 0.8 + 0.05 * k, "recall": 0.5 + 0.1 * k, "f1": 0.6 + 0.1 * k},
            }
            for i, code in enumerate(("hau", "pcm", "yor"))
        }
        folder = x / "mined" / "mined" / f"round-{k}"
        folder.mkdir(parents=True)
        (folder / "mine.json").write_text(json.dumps({"languages": meta}), encoding="utf-8")
    return x

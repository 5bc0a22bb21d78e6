"""Time Tatoeba bitext mining three ways on the same files, model and prompt, in one run.

(a) ``langgap``: :func:`langgap.measuring.measure` with a
    :class:`~langgap.encoders.st.SentenceTransformerEncoder` and no disk cache, so it really
    encodes; timings are the ones ``measure`` records (``Results.timing``). Its ``score`` phase
    computes every langgap bitext metric (cosine and margin accuracy, pair cosines, language-ID
    probe, 2-D projection), not only the cosine accuracy.
(b) ``sentence-transformers``: plain ``model.encode(src + tgt, prompt=...)``, then cosine
    nearest-neighbour accuracy in both directions with numpy.
(c) ``mteb``: mteb's own Tatoeba path: ``SentenceTransformerEncoderWrapper`` around the same
    in-memory model encodes inside ``BitextMiningEvaluator`` (both directions as two column
    pairs) and ``AbsTaskBitextMining._compute_metrics`` (called on the real ``Tatoeba`` task)
    turns the neighbours into accuracy. Only task metadata comes from mteb's registry; no data
    is downloaded.

The model is loaded once, outside every timed section, and a short warm-up encode runs before
the first timing. All three methods share that one model object.

Usage::

    python bench/bench_tatoeba.py --limit 50                      # smoke test
    python bench/bench_tatoeba.py --repeat 3 --json runs/bench_tatoeba.json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import sys
import time
import warnings
from dataclasses import replace
from importlib import metadata
from pathlib import Path
from typing import Any

os.environ.setdefault("TQDM_DISABLE", "1")  # mteb's evaluator draws bars of its own
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from langgap.data import read_bitext  # noqa: E402
from langgap.data.corpora import Bitext  # noqa: E402
from langgap.tasks import Task, bitext_task  # noqa: E402

DEFAULT_MODEL = str(Path.home() / ".cache" / "langgap" / "models" / "multilingual-e5-small")
DEFAULT_FILES = [str(Path(__file__).resolve().parents[2] / "shared" / "data" / "tatoeba" / "deu-eng.tsv")]
METHODS = ("langgap", "langgap-torch", "sentence-transformers", "mteb")  # langgap: --backend auto


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--model", default=DEFAULT_MODEL, help="sentence-transformers model folder or id")
    p.add_argument("--prompt", default="query: ", help="literal prefix for every text (E5: 'query: ')")
    p.add_argument("--files", nargs="+", default=DEFAULT_FILES, help="Tatoeba TSVs (src<TAB>tgt)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--limit", type=int, default=None, help="first N rows of each file (smoke tests)")
    p.add_argument("--repeat", type=int, default=1, help="timed runs per method (interleaved)")
    p.add_argument("--device", default=None, help="cpu, cuda, ...; default chosen by sentence-transformers")
    p.add_argument("--precision", default="auto", help="langgap's --precision (the others run fp32)")
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    p.add_argument("--json", type=Path, default=None, help="write all runs and the summary here")
    args = p.parse_args(argv)
    if args.batch_size < 1 or args.repeat < 1 or (args.limit is not None and args.limit < 2):
        p.error("--batch-size and --repeat must be >= 1, --limit >= 2")
    return args


def load_corpora(files: list[str], limit: int | None) -> list[tuple[Task, Bitext]]:
    """Read each file once (outside the timings); keep the first ``limit`` rows."""
    out = []
    for f in files:
        corpus = read_bitext(f)
        if limit is not None:
            corpus = replace(corpus, src=corpus.src[:limit], tgt=corpus.tgt[:limit])
        out.append((bitext_task(f), corpus))
    return out


def environment(model: Any) -> dict[str, Any]:
    import torch

    versions = {"python": platform.python_version()}
    for pkg in ("langgap", "numpy", "torch", "transformers", "sentence-transformers", "mteb", "datasets"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = "-"
    return {
        "torch_num_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "device": str(model.device),
        "platform": platform.platform(),
        "versions": versions,
    }


# ---------------------------------------------------------------- (a) langgap


def run_langgap(encoder: Any, pairs: list[tuple[Task, Bitext]]) -> dict[str, Any]:
    """One ``measure`` call over all files (langgap embeds the distinct texts of all tasks once)."""
    from langgap.measuring import measure

    t0 = time.perf_counter()
    results = measure(encoder, pairs, cache_path=None)
    wall = time.perf_counter() - t0
    per_file = {
        t.name: {"src2tgt": t.metrics["accuracy_src2tgt"], "tgt2src": t.metrics["accuracy_tgt2src"]}
        for t in results.tasks
    }
    encoded = int(results.encoding.get("encoded", 0))
    return {
        "encode_s": results.timing["encode"],
        "score_s": results.timing["score"],
        "total_s": results.timing["total"],
        "wall_s": wall,
        "texts_encoded": encoded,
        "texts_per_s": encoded / results.timing["encode"] if results.timing["encode"] > 0 else float("nan"),
        "accuracy": per_file,
    }


# ---------------------------------------------------------------- (b) sentence-transformers


def cosine_accuracy(src: np.ndarray, tgt: np.ndarray) -> tuple[float, float]:
    """Nearest-neighbour accuracy by cosine, src->tgt and tgt->src; gold is the diagonal."""
    s = src / np.linalg.norm(src, axis=1, keepdims=True)
    t = tgt / np.linalg.norm(tgt, axis=1, keepdims=True)
    sim = s @ t.T  # (N, N), sim[i, j] = cos(src[i], tgt[j])
    gold = np.arange(len(s))
    return float((sim.argmax(axis=1) == gold).mean()), float((sim.argmax(axis=0) == gold).mean())


def run_st(model: Any, pairs: list[tuple[Task, Bitext]], prompt: str, batch_size: int) -> dict[str, Any]:
    """Per file: one ``encode`` of src + tgt, then numpy scoring."""
    enc = score = 0.0
    texts = 0
    per_file = {}
    for task, corpus in pairs:
        t0 = time.perf_counter()
        emb = model.encode(
            corpus.src + corpus.tgt,
            prompt=prompt or None,
            batch_size=batch_size,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        t1 = time.perf_counter()
        n = len(corpus.src)
        a, b = cosine_accuracy(emb[:n], emb[n:])
        t2 = time.perf_counter()
        enc, score, texts = enc + t1 - t0, score + t2 - t1, texts + 2 * n
        per_file[task.name] = {"src2tgt": a, "tgt2src": b}
    return {
        "encode_s": enc,
        "score_s": score,
        "total_s": enc + score,
        "wall_s": enc + score,
        "texts_encoded": texts,
        "texts_per_s": texts / enc if enc > 0 else float("nan"),
        "accuracy": per_file,
    }


# ---------------------------------------------------------------- (c) mteb


def mteb_wrapper(model: Any, prompt: str) -> Any:
    """mteb's sentence-transformers wrapper around the already loaded model.

    mteb picks a prompt by task name / task type / prompt type; bitext mining encodes with
    ``prompt_type=None``, so an E5 model's built-in ``query`` prompt would not be used. The
    wrapper's resolved prompt table is therefore set to the task type ``BitextMining`` ->
    ``prompt`` (priority 4 in ``mteb.models.abs_encoder.get_prompt_name``). Setting it after
    construction, rather than through ``model_prompts=``, keeps mteb from rewriting the shared
    model's own ``prompts``.
    """
    from mteb.models.sentence_transformer_wrapper import SentenceTransformerEncoderWrapper

    # E5's built-in "passage" prompt key is not an mteb prompt type: mteb warns (twice) and drops it
    mteb_log = logging.getLogger("mteb")
    level = mteb_log.level
    mteb_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wrapper = SentenceTransformerEncoderWrapper(model)
    finally:
        mteb_log.setLevel(level)
    wrapper.model_prompts = {"BitextMining": prompt} if prompt else None
    return wrapper


def run_mteb(wrapper: Any, pairs: list[tuple[Task, Bitext]], batch_size: int) -> dict[str, Any]:
    """Per file: mteb's ``BitextMiningEvaluator`` (encode + neighbour search) and metrics."""
    import mteb
    from datasets import Dataset
    from mteb._evaluators import BitextMiningEvaluator
    from mteb.timing import TimingStack

    task = mteb.get_task("Tatoeba")
    enc = score = wall = 0.0
    texts = 0
    per_file = {}
    for t, corpus in pairs:
        timer = TimingStack()
        t0 = time.perf_counter()
        ds = Dataset.from_dict({"sentence1": corpus.src, "sentence2": corpus.tgt})
        evaluator = BitextMiningEvaluator(
            ds,
            task_metadata=task.metadata,
            hf_split="test",
            hf_subset=f"{corpus.src_lang}-{corpus.tgt_lang}",
            pair_columns=[("sentence1", "sentence2"), ("sentence2", "sentence1")],
            timer=timer,
        )
        with warnings.catch_warnings():
            # mteb's neighbour search copies the similarity tensor with torch.tensor(tensor)
            warnings.filterwarnings("ignore", "To copy construct from a tensor", UserWarning)
            neighbours = evaluator(
                wrapper, encode_kwargs={"batch_size": batch_size, "show_progress_bar": False}
            )
        t1 = time.perf_counter()
        n = len(corpus.src)
        gold = list(zip(range(n), range(n), strict=True))
        acc = {
            d: float(task._compute_metrics(neighbours[key], gold)["accuracy"])
            for d, key in (("src2tgt", "sentence1-sentence2"), ("tgt2src", "sentence2-sentence1"))
        }
        t2 = time.perf_counter()
        phase_enc = sum(p["end"] - p["start"] for p in timer.phases if p["name"] == "Encoding")
        enc += phase_enc
        score += sum(p["end"] - p["start"] for p in timer.phases if p["name"] == "Scoring") + (t2 - t1)
        wall += t2 - t0
        texts += 2 * n
        per_file[t.name] = acc
    return {
        "encode_s": enc,
        "score_s": score,
        "total_s": wall,
        "wall_s": wall,
        "texts_encoded": texts,
        "texts_per_s": texts / enc if enc > 0 else float("nan"),
        "accuracy": per_file,
    }


# ---------------------------------------------------------------- driver


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median of each timing over repeats; accuracies from the first run (they do not vary)."""
    keys = ("encode_s", "score_s", "total_s", "wall_s", "texts_per_s")
    out: dict[str, Any] = {k: statistics.median(r[k] for r in runs) for k in keys}
    out["texts_encoded"] = runs[0]["texts_encoded"]
    acc = runs[0]["accuracy"]
    out["accuracy"] = acc
    out["accuracy_src2tgt"] = float(np.mean([a["src2tgt"] for a in acc.values()]))
    out["accuracy_tgt2src"] = float(np.mean([a["tgt2src"] for a in acc.values()]))
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch

    from langgap.encoders.st import SentenceTransformerEncoder

    pairs = load_corpora(args.files, args.limit)
    t0 = time.perf_counter()
    encoder = SentenceTransformerEncoder(
        args.model,
        prompt=args.prompt,
        batch_size=args.batch_size,
        device=args.device,
        precision=args.precision,
    )
    model = encoder.model  # one model object for all three methods, unless langgap cast its weights
    if next(model.parameters()).dtype != torch.float32:  # bf16 weights on a CPU: the others keep fp32
        model = SentenceTransformerEncoder(args.model, device=args.device, precision="fp32").model
    wrapper = mteb_wrapper(model, args.prompt) if "mteb" in args.methods else None
    on_torch = None
    if "langgap-torch" in args.methods:  # the same settings on torch (the default before ONNX Runtime)
        on_torch = SentenceTransformerEncoder(args.model, prompt=args.prompt, batch_size=args.batch_size,
                                              device=args.device, precision=args.precision, backend="torch")  # fmt: skip
    load_s = time.perf_counter() - t0
    warm = [t for _, c in pairs for t in c.src[:8] + c.tgt[:8]]
    model.encode(warm, prompt=args.prompt or None, batch_size=args.batch_size, show_progress_bar=False)
    t0 = time.perf_counter()
    encoder.encode(warm)  # with --backend onnx: the graph is exported (or read from its cache) here
    warm_s = time.perf_counter() - t0
    if on_torch is not None:
        on_torch.encode(warm)

    env = environment(model)
    rows = sum(len(c) for _, c in pairs)
    print(
        f"torch.get_num_threads()={torch.get_num_threads()}  os.cpu_count()={env['cpu_count']}  "
        f"affinity={env['cpu_affinity']}  device={env['device']}"
    )
    print("versions: " + ", ".join(f"{k} {v}" for k, v in env["versions"].items()))
    print(
        f"model {args.model} (loaded in {load_s:.1f}s, not timed), prompt {args.prompt!r}, "
        f"batch size {args.batch_size}, {len(pairs)} file(s), {rows} pairs, repeat {args.repeat}"
    )

    methods = [m for m in METHODS if m in args.methods]
    runs: dict[str, list[dict[str, Any]]] = {m: [] for m in methods}
    for _ in range(args.repeat):  # interleaved, so drift in machine load hits all methods alike
        if "langgap" in runs:
            runs["langgap"].append(run_langgap(encoder, pairs))
        if "langgap-torch" in runs:
            runs["langgap-torch"].append(run_langgap(on_torch, pairs))
        if "sentence-transformers" in runs:
            runs["sentence-transformers"].append(run_st(model, pairs, args.prompt, args.batch_size))
        if "mteb" in runs:
            runs["mteb"].append(run_mteb(wrapper, pairs, args.batch_size))
    summary = {m: summarize(r) for m, r in runs.items()}

    print()
    print("| method | texts | encode s | score s | total s | texts/s | acc src->tgt | acc tgt->src |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for m, s in summary.items():
        print(
            f"| {m} | {s['texts_encoded']} | {s['encode_s']:.3f} | {s['score_s']:.3f} | {s['total_s']:.3f} "
            f"| {s['texts_per_s']:.1f} | {s['accuracy_src2tgt']:.4f} | {s['accuracy_tgt2src']:.4f} |"
        )
    accs = {m: s["accuracy"] for m, s in summary.items()}
    agree = all(accs[m] == accs[methods[0]] for m in methods)
    print(f"\naccuracies identical across methods (per file, both directions): {agree}")
    if not agree:
        for m in methods:
            print(f"  {m}: {accs[m]}")

    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
            "environment": env,
            "model_load_s": load_s,
            "pairs": rows,
            "accuracies_agree": agree,
            "langgap_precision": encoder.precision,
            "langgap_backend": encoder.backend,
            "langgap_warmup_s": warm_s,
            "summary": summary,
            "runs": runs,
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())

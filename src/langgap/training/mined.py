"""``--mine-from DIR``: train from monolingual text, mining again with each round's model (CRISS).

Round ``K`` (1 to ``--rounds``) embeds every ``<language>.txt`` of the folder with the current
model (round 1: ``--model``; later: round ``K-1``'s model), mines each language against the
``--pivot`` file and filters the pairs (:mod:`langgap.mining.monolingual`), writes them whole to
``<out>/mined/round-K/`` (``<x>-<pivot>.tsv``, ``mine.json``), then trains on them (with any
``--pairs`` / ``--multiway`` beside) into the run folder ``<out>/rounds/round-K/``, starting from
the current model, with the same settings every round (the recipe's steps are the budget of a
round; ``--teacher SAME`` is the round's starting model). ``<out>/model/`` is the last round's
model, its card extended with the pairs kept per round and language; ``<out>/rounds.json``
follows the rounds as they finish.

``resume=True`` continues a stopped run: finished rounds' pairs and models are reused, and the
round that was training continues from its last checkpoint. No printing: ``on_round`` gets each
round's ``mine.json`` contents, ``on_language`` each language's result as it is mined.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langgap import atomic
from langgap.encoders import load_encoder
from langgap.encoders.cache import default_cache_path
from langgap.errors import InputError
from langgap.mining import DEFAULT_THRESHOLDS
from langgap.mining.filters import PairFilter
from langgap.mining.monolingual import (
    Gold,
    LanguageRound,
    dev_gold,
    dev_language,
    mine_round,
    mono_files,
    read_sides,
    write_round,
)
from langgap.mining.sides import Side
from langgap.results import package_versions
from langgap.training.checkpoint import last_checkpoint
from langgap.training.config import TrainConfig
from langgap.training.loop import EvalCallback, ProgressCallback, TrainResult, train
from langgap.training.mine_config import MineConfig
from langgap.types import ProgressFn

RUN_FILE = "rounds.json"
RoundCallback = Callable[[int, dict[str, Any]], None]


def round_config(cfg: TrainConfig, k: int, model: str, files: list[Path]) -> TrainConfig:
    """The plain training run of round ``k``: from ``model``, on the mined ``files`` beside the
    run's own pairs, into ``<out>/rounds/round-k``. A vocabulary swap (``--tokenizer``, its
    trimming and ``--init``) happens in round 1 only: later rounds start from a model that has it."""
    data = cfg.data
    priority = cfg.objective.priority or (data.pivot,)
    student = dataclasses.replace(cfg.model, name=model)
    if k > 1:
        student = dataclasses.replace(student, tokenizer=None, trim_vocab=False, init="mean", init_from=None)
    return dataclasses.replace(
        cfg,
        model=student,
        data=dataclasses.replace(
            data,
            pairs=(*data.pairs, *map(str, files)),
            mine_from=None,
            pivot=data.pivot if data.multiway else None,
        ),
        objective=dataclasses.replace(cfg.objective, priority=tuple(p for p in priority if p)),
        output=dataclasses.replace(cfg.output, out=str(Path(cfg.output.out) / "rounds" / f"round-{k}")),
        mine=MineConfig(),
    )


def check_out(out: Path, resume: bool) -> None:
    """A new run needs a new or empty ``out``; ``resume`` needs one this module started."""
    started = (out / RUN_FILE).exists() or (out / "mined").is_dir()
    if resume and not started:
        raise InputError(
            f"--resume: {out} holds no --mine-from run ({RUN_FILE}, mined/); run without --resume"
        )
    if not resume and started:
        raise InputError(
            f"--out {out} already holds a --mine-from run: continue it with --resume or choose another --out"
        )
    atomic.check_out_dir(out, (RUN_FILE, "mined"), "langgap --mine-from run")


@dataclass
class MinedResult:
    """A finished ``--mine-from`` run: its folder, final model, ``rounds.json`` and the last
    round's training (``None`` when this call trained nothing: every round was done before)."""

    out: Path
    model_dir: Path
    record: dict[str, Any]
    last: TrainResult | None


def prepare(cfg: TrainConfig) -> tuple[dict[str, Side], dict[str, Gold], PairFilter]:
    """The sides (pivot last), the known pairs per language and the filters, checked before any
    model is loaded."""
    data, mc = cfg.data, cfg.mine
    if not data.mine_from or not data.pivot:
        raise InputError("train_mined needs --mine-from DIR and --pivot LANG")
    sides = read_sides(mono_files(data.mine_from, data.pivot), mc.mine_k)
    golds = {}
    for path in mc.mine_dev:
        lang = dev_language(path, sides, data.pivot)
        golds[lang] = dev_gold(path, sides[lang], sides[data.pivot])
    threshold = DEFAULT_THRESHOLDS["ratio"] if mc.mine_threshold is None else mc.mine_threshold
    return sides, golds, PairFilter(threshold, mc.mine_max_ratio, mc.mine_cap)


def train_mined(
    cfg: TrainConfig,
    *,
    resume: bool = False,
    progress: ProgressCallback | None = None,
    on_eval: EvalCallback | None = None,
    encode_progress: ProgressFn | None = None,
    on_language: Callable[[LanguageRound], None] | None = None,
    on_round: RoundCallback | None = None,
) -> MinedResult:
    """Train ``cfg`` round after round on pairs mined from ``cfg.data.mine_from`` (module docstring).

    Raises:
        InputError: bad settings or files (before any model is loaded), or a round where no
            language kept a pair (nothing of that round written).
    """
    mc, out = cfg.mine, Path(cfg.output.out)
    check_out(out, resume)
    sides, golds, settings = prepare(cfg)  # bad input: before any model is loaded
    model, record, last = cfg.model.name, _started(out, cfg, resume), None
    metas: list[dict[str, Any]] = []  # each round's mine.json
    for k in range(1, mc.rounds + 1):
        folder = out / "mined" / f"round-{k}"
        if not (folder / "mine.json").exists():
            m = cfg.model
            encoder = load_encoder(model, prompt=m.prompt, prompt_name=m.prompt_name, max_length=m.max_length)
            mined = mine_round(
                sides,
                encoder,
                settings,
                how="default" if mc.mine_threshold is None else "given",
                k=mc.mine_k,
                golds=golds,
                calibrate=mc.mine_calibrate,
                cache_path=default_cache_path(),
                progress=encode_progress,
                on_language=on_language,
            )
            write_round(mined, folder, {"round": k, "model": model})
        meta = json.loads((folder / "mine.json").read_text(encoding="utf-8"))
        metas.append(meta)
        if on_round is not None:
            on_round(k, meta)
        run_cfg = round_config(cfg, k, model, [folder / name for name in meta["files"]])
        run_out = Path(run_cfg.output.out)
        if not (run_out / "model" / "config.json").exists():
            resumed = last_checkpoint(run_out) is not None
            last = train(
                run_cfg, resume=resumed, progress=progress, on_eval=on_eval, encode_progress=encode_progress
            )
        model = str(run_out / "model")
        kept = sum(x["kept"] for x in meta["languages"].values())
        done = {"round": k, "mined": str(folder), "run": str(run_out), "pairs": kept}
        record["rounds"] = [*record["rounds"][: k - 1], done]
        atomic.write_text(out / RUN_FILE, json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    _final_model(out, Path(model), mined_section(record, metas))
    return MinedResult(out, out / "model", record, last)


def _started(out: Path, cfg: TrainConfig, resume: bool) -> dict[str, Any]:
    """``rounds.json`` so far (on resume) or a new one, with the run's settings."""
    if resume and (out / RUN_FILE).exists():
        record: dict[str, Any] = json.loads((out / RUN_FILE).read_text(encoding="utf-8"))
        return record
    out.mkdir(parents=True, exist_ok=True)
    return {
        "format": "langgap.rounds/1",
        "config": cfg.to_json(),
        "rounds": [],
        "versions": package_versions(),
    }


def _final_model(out: Path, last: Path, section: str) -> None:
    """``<out>/model``: the last round's model (files hard-linked where the disk allows), its card
    extended with ``section`` (the mined pairs of every round)."""
    with atomic.staged_dir(out / "model") as tmp:
        shutil.copytree(last, tmp, dirs_exist_ok=True, copy_function=_link_or_copy)
        card = (last / "README.md").read_text(encoding="utf-8") if (last / "README.md").exists() else ""
        (tmp / "README.md").unlink(missing_ok=True)  # a link would share the round's card
        atomic.write_text(tmp / "README.md", card.rstrip("\n") + "\n\n" + section + "\n")


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def mined_section(record: dict[str, Any], metas: list[dict[str, Any]]) -> str:
    """The card's ``## Mined training data``: per round (``metas``: each round's ``mine.json``) and
    language, the pairs kept and the threshold."""
    lines = [
        "## Mined training data",
        "",
        f"Trained from monolingual text (`--mine-from {record['config']['mine_from']}`, pivot "
        f"`{record['config']['pivot']}`) in {len(record['rounds'])} round(s), starting from "
        f"`{record['config']['model']}`; each round mined with the model of the round before.",
        "",
        "| round | language | sentences | candidates | kept | threshold | dev F1 |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for k, meta in enumerate(metas, start=1):
        for lang, x in meta["languages"].items():
            f1 = f"{x['dev']['f1']:.3f}" if "dev" in x else "–"
            t = x["threshold"]
            lines.append(
                f"| {k} | {lang} | {x['distinct']:,} | {x['candidates']:,} | {x['kept']:,} | {t['value']:.4f} ({t['from']}) | {f1} |"
            )
    return "\n".join(lines)

"""The model card (``README.md``) of a trained model folder, in sentence-transformers' layout.

Front matter (the base model when it is a Hub id, not a local folder; library, pipeline tag,
languages), what the model is, how to load it, the before/after table of the run's first and last
evaluation, the training data and settings (recipe included), and the package versions.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from langgap.metrics import registry
from langgap.results import package_versions
from langgap.training.config import DataConfig


def base_model(base: str) -> tuple[list[str], str]:
    """The card's front-matter line for ``base`` (``base_model:`` only for a Hub id, which the Hub
    expects there) and the note its text adds to a local folder."""
    if Path(base).expanduser().exists():
        return [], " (a local folder)"
    return [f"base_model: {base}"], ""


def _evaluation(history: list[dict[str, Any]]) -> list[str]:
    """``| task | metric | before | after |`` rows from the first and last evaluation."""
    if len(history) < 2 or not any(k in history[0] for k in ("tasks", "english_guard", "language_guards")):
        return ["No evaluation data was given (`--eval-bitext`, `--eval-sts`, `--guard-sts`)."]
    first, last = history[0], history[-1]
    rows = [
        f"| task | metric | step {first['step']} | step {last['step']} | change |",
        "|---|---|---:|---:|---:|",
    ]
    for name, before in first.get("tasks", {}).items():
        after = last.get("tasks", {}).get(name, {})
        for key in (before["main_score"], "pair_cosine", "language_id_accuracy"):
            if key in before and key in after:
                arrow = "↑" if registry.greater_is_better(key) else "↓"
                rows.append(
                    f"| {name} | {registry.label(key)} {arrow} | {before[key]:.4f} | {after[key]:.4f} | "
                    f"{after[key] - before[key]:+.4f} |"
                )
    guard = last.get("english_guard")
    if guard:
        before, after = guard["baseline"], guard["value"]
        rows.append(
            f"| {guard['task']} (English guard) | {guard['metric']} | {before:.4f} | {after:.4f} | "
            f"{after - before:+.4f} |"
        )
    for name, g in last.get("language_guards", {}).items():
        flag = " (fell more than the warning threshold)" if g["warning"] else ""
        rows.append(
            f"| {name} ({g['language']} guard) | STS ρ ↑ | {g['baseline']:.4f} | {g['value']:.4f} | "
            f"{-g['drop']:+.4f}{flag} |"
        )
    return rows


def model_card(
    data: DataConfig,
    settings: Mapping[str, Any],
    *,
    base: str,
    languages: list[str],
    dimension: int,
    max_length: int,
    trained_at: int,
    steps: int,
    pairs: int,
    prompt: str,
    history: list[dict[str, Any]],
) -> str:
    """The README.md text (see the module docstring): the training data from ``data``, and the
    run's flat ``settings`` (:meth:`TrainConfig.to_json`) listed."""
    files = [
        *data.pairs,
        *([f"{data.multiway} (to {data.pivot or 'every language'})"] if data.multiway else []),
    ]
    shown = {
        k: v
        for k, v in settings.items()
        if k not in ("out", "eval_bitext", "eval_sts") and v not in (None, (), [])
    }
    meta, local = base_model(base)
    lines = [
        "---",
        *meta,
        "library_name: sentence-transformers",
        "pipeline_tag: sentence-similarity",
        "tags:",
        *[
            f"- {t}"
            for t in ("sentence-transformers", "sentence-similarity", "feature-extraction", "langgap")
        ],
        "language:",  # the Hub's metadata wants ISO 639 codes: deu_Latn -> deu
        *[f"- {code}" for code in dict.fromkeys(lang.split("_")[0] for lang in languages)],
        "---",
        "",
        f"# SentenceTransformer based on {base}",
        "",
        f"This is a [sentence-transformers](https://www.SBERT.net) model fine-tuned from `{base}` with "
        f"langgap to bring translations closer together (to close the language gap). It maps sentences "
        f"to a {dimension}-dimensional dense vector space.",
        "",
        "## Model Details",
        "",
        "- **Model Type:** Sentence Transformer",
        f"- **Base model:** `{base}`{local}",
        f"- **Maximum Sequence Length:** {max_length} tokens (the base model's; trained on texts cut at "
        f"{trained_at} tokens)",
        f"- **Output Dimensionality:** {dimension} dimensions",
        "- **Similarity Function:** Cosine Similarity",
        f"- **Training data:** {', '.join(f'`{d}`' for d in files)} ({pairs:,} pairs)",
        f"- **Languages:** {', '.join(languages)}",
        "",
        "## Usage",
        "",
        "```python",
        "from sentence_transformers import SentenceTransformer",
        "",
        'model = SentenceTransformer("path/to/this/folder")',
        f"embeddings = model.encode([\"...\"])  # the default 'query' prompt is the training prompt {prompt!r}",
        "```",
        "",
        "## Evaluation",
        "",
        *_evaluation(history),
        "",
        "## Training Details",
        "",
        f"- **Recipe:** {_recipe(settings)}",
        f"- **Steps:** {steps} optimizer steps, batches of {settings['batch_size']} pairs",
        *[f"- `{k}`: `{v}`" for k, v in shown.items()],
        "",
        "### Framework Versions",
        "",
        *[f"- {k}: {v}" for k, v in package_versions().items()],
        "",
    ]
    return "\n".join(lines)


def _recipe(settings: Mapping[str, Any]) -> str:
    """The recipe line: its name or file and the sha256 of the file (the first 12 digits)."""
    name, digest = settings.get("recipe"), settings.get("recipe_sha256")
    if not name:
        return "none (options given directly)"
    return f"{name} (file sha256 {digest[:12]})" if digest else str(name)

"""The registered metrics and headline summaries (see :mod:`langgap.metrics.registry`).

Task metrics first, in the order scorers compute them and writers show them; then the summary.
A new metric is one :func:`~langgap.metrics.registry.register` call here plus the function that
computes it (``docs/architecture.md`` walks through the strong-alignment metric).
"""

from __future__ import annotations

import numpy as np

from langgap.metrics.alignment import pair_cosines, random_cosines, random_pair_cosines, rank_spearman
from langgap.metrics.bitext import Scoring, correct_from_knn, xsim_error
from langgap.metrics.language import language_id_probe, neighbour_purity, purity_chance
from langgap.metrics.registry import (
    BITEXT,
    METRICS,
    MINING,
    MULTI,
    MULTIWAY,
    PARALLEL,
    SAMPLE,
    STS,
    Group,
    Metric,
    PairFn,
    PairInput,
    Resample,
    Summary,
    register,
)
from langgap.metrics.stats import f1_stat, nanmean_stat, precision_stat, spearman_stat
from langgap.metrics.strong import language_preference, strong_alignment_ap


def _retrieval(scoring: Scoring, forward: bool) -> PairFn:
    """Per source row (``forward``) or target row, whether its best candidate is its translation;
    every scoring and direction reads the same two kNN searches."""

    def fn(p: PairInput) -> np.ndarray:
        x, y = (p.a, p.b) if forward else (p.b, p.a)
        return correct_from_knn(p.knn(forward), p.knn(not forward), scoring, x, y)

    return fn


ALL_PARALLEL, BITEXT_ONLY = Resample(PARALLEL), Resample(frozenset({BITEXT}))
SAMPLED = Resample(PARALLEL, stat=nanmean_stat)  # items are NaN outside the sampled rows of a big task
_MARGIN = "scoring with the ratio margin over k neighbours (Artetxe & Schwenk 2019)"
_DISTANCE = "scoring with the distance margin over k neighbours (Artetxe & Schwenk 2019)"

# fmt: off
# -- retrieval: both directions of cosine, ratio-margin and distance-margin nearest neighbours --------
for _scoring, _prefix, _short, _how, _table, _cmp in (
    ("cosine", "", "acc", "by cosine", True, ALL_PARALLEL),
    ("ratio", "margin_", "margin", _MARGIN, True, BITEXT_ONLY),
    ("distance", "margin_distance_", "dist", _DISTANCE, False, None),
):
    for _fwd, _dir, _arrow, _from, _to in ((True, "src2tgt", "→", "source", "target"),
                                          (False, "tgt2src", "←", "target", "source")):
        register(Metric(
            f"{_prefix}accuracy_{_dir}", f"{_short}{_arrow}",
            f"{_from}→{_to} retrieval accuracy" + ("" if _scoring == "cosine" else f" ({_scoring} margin)"),
            f"share of {_from} sentences whose best {_to} candidate ({_how}) is their translation",
            "retrieval", table=_table, pair=_retrieval(_scoring, _fwd), compare=_cmp))  # type: ignore[arg-type]

# -- alignment of translations --------------------------------------------------------------------
register(Metric("pair_cosine", "pair cos", "translation cosine",
                "mean cosine between a sentence and its translation", "alignment", unit="cosine",
                pair=lambda p: pair_cosines(p.a, p.b), compare=ALL_PARALLEL))
register(Metric("random_cosine", "rand cos", "non-translation cosine",
                "mean cosine between a sentence and every non-translation in the other language",
                "alignment", unit="cosine", greater_is_better=False,
                pair=lambda p: random_cosines(p.a, p.b), compare=BITEXT_ONLY))
register(Metric("rank_spearman", "rank ρ", "cross-lingual ranking Spearman",
                "rank all sentences by similarity to a reference in language A and in language B; "
                "Spearman of the two rankings, averaged over references", "alignment", unit="correlation",
                pair=lambda p: rank_spearman(p.a, p.b, p.rows), compare=Resample(frozenset({BITEXT}), stat=nanmean_stat)))
register(Metric("random_pair_cosine", "rand pair cos", "random-pair cosine",
                "cosine between each sentence and one fixed non-translation (the histograms' random pairs)",
                "detail", unit="cosine", greater_is_better=False, table=False,
                pair=lambda p: random_pair_cosines(p.a, p.b)))
register(Metric("cosine_gap", "cos gap", "translation minus non-translation cosine",
                "pair_cosine - random_cosine: how far translations stand out", "detail", unit="difference",
                table=False))

# -- multi-way: xSIM (LASER) and the sample's paraphrase tables --------------------------------------
register(Metric("xsim_error", "xSIM err", "xSIM error",
                "LASER's xSIM: ratio-margin retrieval error over every ordered language pair", "retrieval",
                greater_is_better=False,
                compare=Resample(MULTI, items=("margin_accuracy_src2tgt", "margin_accuracy_tgt2src"),
                                 transform=xsim_error)))  # type: ignore[arg-type]
for _dir, _from, _to in (("src2tgt", "source", "target"), ("tgt2src", "target", "source")):
    register(Metric(f"xsim_error_{_dir}", f"xSIM {_dir}", f"xSIM error {_from}→{_to}",
                    f"xSIM error retrieving {_to} sentences for {_from} sentences of one language pair",
                    "detail", greater_is_better=False, table=False))
    register(Metric(f"positive_cosine_{_dir}", f"positive cos {_dir}", f"paraphrase cosine {_from}→{_to}",
                    f"mean cosine between an anchor in the {_from} language and its positive in the {_to}",
                    "detail", unit="cosine", table=False))
for _side in ("source", "target"):
    register(Metric(f"xsim_error_as_{_side}", f"xSIM as {_side}", f"xSIM error as {_side}",
                    f"xSIM error averaged over the pairs where the language is the {_side}", "detail",
                    greater_is_better=False, table=False))
register(Metric("positive_cosine", "positive cos", "paraphrase cosine",
                "mean cosine between an anchor and its positive in the same language", "detail",
                unit="cosine", table=False))

# -- STS ------------------------------------------------------------------------------------------------
register(Metric("spearman", "STS ρ", "STS Spearman",
                "Spearman correlation of each sentence pair's cosine with its gold similarity", "alignment",
                unit="correlation",
                compare=Resample(frozenset({STS}), items=("cosine", "gold"), stat=spearman_stat,
                                 combine="separate")))
register(Metric("cross_lingual", "cross", "cross-language STS file",
                "1 when the two columns are in different languages, else 0", "detail", unit="flag",
                table=False))

# -- language signal left in the embeddings ---------------------------------------------------------
register(Metric("language_id_accuracy", "lang-ID", "language-ID probe accuracy",
                "a linear probe tells the language of held-out sentences from their embedding; near "
                "chance means no language signal", "alignment", greater_is_better=False,
                chance="language_id_chance", languages=lambda x: language_id_probe(x.per_lang, seed=x.seed, rows=x.rows),
                chance_fn=lambda n_lang, n: 1.0 / n_lang))
register(Metric("language_id_chance", "lang-ID chance", "language-ID chance level",
                "1 / number of languages", "detail", table=False))
register(Metric("neighbour_purity", "purity", "neighbour purity",
                "share of each embedding's 10 nearest neighbours in its own language; near chance means "
                "the languages mix", "alignment", greater_is_better=False, chance="neighbour_purity_chance",
                languages=lambda x: neighbour_purity(x.per_lang, rows=x.rows), chance_fn=purity_chance))
register(Metric("neighbour_purity_chance", "purity chance", "neighbour purity chance level",
                "(N - 1) / (L * N - 1): the purity of a space where language carries no signal", "detail",
                table=False))
register(Metric("strong_alignment_map", "strong mAP", "strong alignment (mAP)",
                "retrieval from a pool of every language (LAReQA, Roy et al. 2020): mean average precision "
                "of a sentence's translations among all other sentences", "alignment",
                languages=lambda x: strong_alignment_ap(x.per_lang, x.rows), compare=SAMPLED))
register(Metric("language_preference", "lang pref", "language preference rate",
                "share of sentences whose nearest other sentence in the pool of every language is a "
                "same-language non-translation", "alignment", greater_is_better=False,
                chance="language_preference_chance", languages=lambda x: language_preference(x.per_lang, x.rows),
                chance_fn=purity_chance, compare=SAMPLED))
register(Metric("language_preference_chance", "lang pref chance", "language preference chance level",
                "(N - 1) / (L * N - 1): the rate of a space where language carries no signal", "detail",
                table=False))

# -- the sample's anchor/positive (paraphrase) cosines (Jina AI's tables) ---------------------------
register(Metric("positive_cosine_mono", "same language", "paraphrase cosine, same language",
                "mean anchor/positive cosine within a language", "paraphrase", unit="cosine"))
register(Metric("positive_cosine_cross", "across languages", "paraphrase cosine, across languages",
                "mean cosine of an anchor with its positive in another language", "paraphrase", unit="cosine"))
register(Metric("positive_gap", "gap", "paraphrase gap",
                "same-language minus cross-language paraphrase cosine", "paraphrase", unit="difference",
                greater_is_better=False))

# -- BUCC-style mining: gold pairs hidden among distractors (resampled over gold pairs) --------------
for _suffix, _at, _item in (("", "at the F1-best threshold", "best"), ("_default", "at langgap mine's default threshold", "default")):
    _found, _fp = f"gold_found_{_item}", f"false_positive_share_{_item}"
    _short = "" if _item == "best" else " dflt"
    _group: Group = "mining" if _item == "best" else "mining_default"
    register(Metric(f"mining_f1{_suffix}", f"F1{_short}", f"mining F1 {_at}",
                    f"harmonic mean of precision and recall of the mined pairs {_at}", _group,
                    compare=Resample(frozenset({MINING}), items=(_found, _fp), stat=f1_stat, combine="separate")))
    register(Metric(f"mining_precision{_suffix}", f"P{_short}", f"mining precision {_at}",
                    f"share of the mined pairs kept {_at} that are gold pairs", _group,
                    compare=Resample(frozenset({MINING}), items=(_found, _fp), stat=precision_stat,
                                     combine="separate")))
    register(Metric(f"mining_recall{_suffix}", f"R{_short}", f"mining recall {_at}",
                    f"share of the gold pairs mined and kept {_at}", _group,
                    compare=Resample(frozenset({MINING}), items=(_found,))))
    register(Metric(f"mining_threshold{_suffix}", f"thr{_short}", _at.removeprefix("at "),
                    f"ratio-margin score a mined pair needs to be kept ({_at.removeprefix('at ')})", _group,
                    unit="score"))
register(Metric("mining_gold_pairs", "gold", "gold pairs", "known translation pairs in the mining set", "detail",
                unit="count", table=False))
register(Metric("mining_candidates", "candidates", "candidate pairs",
                "pairs the retrieval proposes (one per distinct source sentence in forward mode)", "detail",
                unit="count", table=False))

# -- tokenizer coverage (per language; langgap tokens and the report's coverage section) ----------
for _key, _label, _name, _desc, _gib in (
    ("fertility", "tokens/word", "fertility", "tokens per word (per character for scripts written without spaces)", False),
    ("unk_rate", "UNK tokens", "unknown-token share", "share of tokens that are the unknown token", False),
    ("unk_char_rate", "UNK chars", "unknown-character share", "share of characters that end up in an unknown token", False),
    ("byte_fallback_rate", "byte pieces", "byte-fallback share", "share of tokens that are byte-fallback pieces", False),
    ("split_word_rate", "split words", "split-word share", "share of words split into two or more tokens", False),
    ("truncated_rate", "truncated", "truncated-text share", "share of texts longer than the model's max length", False),
    ("vocab_share", "vocab used", "vocabulary share", "distinct token ids the language uses / vocabulary size", True),
):
    register(Metric(_key, _label, _name, _desc, "coverage", greater_is_better=_gib, table=False))

# -- summary: the headline numbers of a run -----------------------------------------------------------
_B, _M, _S, _SA = frozenset({BITEXT}), frozenset({MULTIWAY}), frozenset({STS}), frozenset({SAMPLE})
register(Summary("bitext_accuracy", "bitext acc", "bitext retrieval accuracy",
                 "mean over bitext files of both retrieval directions (cosine)",
                 of=("accuracy_src2tgt", "accuracy_tgt2src"), kinds=_B))
register(Summary("bitext_margin_accuracy", "bitext margin acc", "bitext margin accuracy",
                 "mean over bitext files of both retrieval directions (ratio margin)",
                 of=("margin_accuracy_src2tgt", "margin_accuracy_tgt2src"), kinds=_B))
register(Summary("bitext_pair_cosine", "bitext pair cos", "bitext translation cosine",
                 "mean translation cosine over bitext files", of=("pair_cosine",), kinds=_B, unit="cosine"))
register(Summary("bitext_random_cosine", "bitext rand cos", "bitext non-translation cosine",
                 "mean non-translation cosine over bitext files", of=("random_cosine",), kinds=_B,
                 unit="cosine", greater_is_better=False))
register(Summary("multiway_xsim_error", "xSIM err", "multi-way xSIM error", "mean xSIM error over multi-way "
                 "folders", of=("xsim_error",), kinds=_M, greater_is_better=False))
register(Summary("sts_spearman_mono", "STS ρ mono", "STS Spearman, same language",
                 "mean Spearman over same-language STS files", of=("spearman",), kinds=_S,
                 where=("cross_lingual", 0.0), unit="correlation"))
register(Summary("sts_spearman_cross", "STS ρ cross", "STS Spearman, across languages",
                 "mean Spearman over cross-language STS files", of=("spearman",), kinds=_S,
                 where=("cross_lingual", 1.0), unit="correlation"))
for _key in ("pair_cosine", "random_cosine", "positive_cosine_mono", "positive_cosine_cross", "positive_gap"):
    _m = METRICS[_key]
    register(Summary(f"sample_{_key}", f"sample {_m.label}", f"sample: {_m.name}",
                     f"{_m.description} (built-in sample)", of=(_key,), kinds=_SA, unit=_m.unit,
                     greater_is_better=_m.greater_is_better))
register(Summary("mining_f1", "mining F1", "mining F1 (BUCC-style)",
                 "mean over mining sets of F1 at the F1-best threshold", of=("mining_f1",), kinds=frozenset({MINING})))
register(Summary("mining_f1_default", "mining F1 dflt", "mining F1 at the default threshold",
                 "mean over mining sets of F1 at langgap mine's default threshold", of=("mining_f1_default",),
                 kinds=frozenset({MINING})))
for _key in ("language_id_accuracy", "neighbour_purity", "strong_alignment_map", "language_preference"):
    _m = METRICS[_key]
    register(Summary(_key, _m.label, _m.name, f"{_m.description} (mean over tasks)", of=(_key,),
                     greater_is_better=_m.greater_is_better, chance=_m.chance))
register(Summary("sts_gap", "STS gap", "STS gap", "same-language minus cross-language STS Spearman",
                 derive=lambda s: s["sts_spearman_mono"] - s["sts_spearman_cross"]
                 if "sts_spearman_mono" in s and "sts_spearman_cross" in s else None,
                 unit="difference", greater_is_better=False))
# fmt: on

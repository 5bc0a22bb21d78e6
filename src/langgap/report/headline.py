"""One sentence per task that says what its numbers mean, for the first screen of a report.

Each clause comes from the metrics a task has (not from its kind), with the chance levels the
results store: "Translations are retrieved 97% of the time; a linear probe still tells the
language 97% of the time (chance 10%): strong language signal."
"""

from __future__ import annotations

from langgap.results import TaskResult

# how far above chance a language probe (or the language preference) is, as a share of the way
# from chance to 1: (value - chance) / (1 - chance)
STRONG, MODERATE = 0.6, 0.25


def signal_strength(value: float, chance: float) -> str:
    """``strong`` / ``moderate`` / ``weak`` / ``no`` language signal for a probe-like accuracy."""
    lift = (value - chance) / (1.0 - chance) if chance < 1 else 0.0
    if lift >= STRONG:
        return "strong"
    if lift >= MODERATE:
        return "moderate"
    return "weak" if lift > 0.05 else "no"


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def headline(t: TaskResult) -> str:
    """The task's numbers in words (empty when it has none of the metrics spoken about)."""
    m = t.metrics
    parts: list[str] = []
    acc = [m[k] for k in ("accuracy_src2tgt", "accuracy_tgt2src") if m.get(k) is not None]
    if acc:
        parts.append(f"translations are retrieved {_pct(sum(acc) / len(acc))} of the time")
    if m.get("xsim_error") is not None:
        parts.append(f"xSIM error {_pct(m['xsim_error'])} over every ordered language pair")
    if m.get("language_id_accuracy") is not None and m.get("language_id_chance") is not None:
        lid, chance = m["language_id_accuracy"], m["language_id_chance"]
        parts.append(
            f"a linear probe still tells the language {_pct(lid)} of the time (chance {_pct(chance)}): "
            f"{signal_strength(lid, chance)} language signal"
        )
    if m.get("language_preference") is not None and m.get("language_preference_chance") is not None:
        lp, chance = m["language_preference"], m["language_preference_chance"]
        parts.append(
            f"in a pool of every language, {_pct(lp)} of sentences find a same-language sentence first "
            f"(chance {_pct(chance)}): {signal_strength(lp, chance)} preference for the own language"
        )
    if m.get("spearman") is not None:
        where = "across languages" if m.get("cross_lingual") else "within one language"
        parts.append(f"STS Spearman {m['spearman']:.2f} {where} ({'-'.join(t.languages)})")
    if m.get("mining_f1") is not None:
        gold = (
            f"{int(m['mining_gold_pairs']):,} hidden translations"
            if m.get("mining_gold_pairs")
            else "gold pairs"
        )
        clause = (
            f"mining finds the {gold} with F1 {m['mining_f1']:.2f} at the best threshold "
            f"(precision {_pct(m['mining_precision'])}, recall {_pct(m['mining_recall'])})"
        )
        if m.get("mining_f1_default") is not None:
            clause += f" and F1 {m['mining_f1_default']:.2f} at langgap mine's default threshold"
        parts.append(clause)
    if m.get("positive_gap") is not None:
        parts.append(
            f"paraphrases score {m['positive_cosine_mono']:.2f} within a language and "
            f"{m['positive_cosine_cross']:.2f} across (gap {m['positive_gap']:.2f})"
        )
    if not parts:
        return ""
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."

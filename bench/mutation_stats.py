"""Per-module verdicts of the last mutmut run (bench/mutation.sh prints this at the end).

    python bench/mutation_stats.py [PATTERN ...] [--survivors] [--markdown]

PATTERNs are mutant-name globs (``langgap.metrics.bitext.*``); none: every module mutmut
mutated. The kill rate is (killed + timeout) / mutants: a mutant no fast test reaches ("no
tests") counts as not killed. ``--survivors`` lists every mutant not killed, for triage
(``mutmut show NAME`` prints its diff); ``--markdown`` prints the table for docs/testing.md.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
from collections import Counter
from pathlib import Path

# mutmut 3's exit codes (mutmut/stats.py: status_by_exit_code); anything else is "other"
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 36: "timeout"}
STATUS |= {code: "timeout" for code in (-24, 24, 152, 255)}
COLUMNS = ("killed", "survived", "timeout", "no tests", "other")


def verdicts(root: Path) -> dict[str, dict[str, str]]:
    """``{module path: {mutant name: status}}`` from mutmut's ``mutants/**/*.py.meta`` files."""
    out: dict[str, dict[str, str]] = {}
    for meta in sorted((root / "mutants" / "src").rglob("*.py.meta")):
        codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        module = str(meta.relative_to(root / "mutants")).removesuffix(".meta")
        out[module] = {
            name: ("not checked" if code is None else STATUS.get(code, "other"))
            for name, code in codes.items()
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("patterns", nargs="*", help="mutant-name globs (default: all)")
    ap.add_argument("--survivors", action="store_true", help="list every mutant not killed")
    ap.add_argument("--markdown", action="store_true", help="a markdown table")
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    args = ap.parse_args()

    rows, survivors = [], []
    total: Counter[str] = Counter()
    for module, by_name in verdicts(args.root).items():
        chosen = {
            n: s
            for n, s in by_name.items()
            if not args.patterns or any(fnmatch.fnmatch(n, p) for p in args.patterns)
        }
        if not chosen:
            continue
        count = Counter("other" if s not in COLUMNS else s for s in chosen.values())
        total.update(count)
        rows.append((module.removeprefix("src/"), len(chosen), count))
        survivors += [(n, s) for n, s in chosen.items() if s not in ("killed", "timeout")]
    rows.append(("total", sum(total.values()), total))

    def rate(n: int, c: Counter[str]) -> str:
        return f"{100 * (c['killed'] + c['timeout']) / n:.1f} %" if n else "-"

    if args.markdown:
        print("| module | mutants | " + " | ".join(COLUMNS) + " | kill rate |")
        print("|---|" + "---:|" * (len(COLUMNS) + 2))
        for module, n, c in rows:
            print(f"| `{module}` | {n} | " + " | ".join(str(c[k]) for k in COLUMNS) + f" | {rate(n, c)} |")
    else:
        print(f"{'module':40} {'mutants':>7} " + " ".join(f"{k:>8}" for k in COLUMNS) + f" {'kill rate':>9}")
        for module, n, c in rows:
            print(f"{module:40} {n:7d} " + " ".join(f"{c[k]:8d}" for k in COLUMNS) + f" {rate(n, c):>9}")
    if args.survivors:
        print()
        for name, status in sorted(survivors):
            print(f"{status:12} {name}")


if __name__ == "__main__":
    main()

"""Per-module verdicts of the last mutmut run (bench/mutation.sh prints this at the end).

    python bench/mutation_stats.py [PATTERN ...] [--survivors [--diffs]] [--names] [--markdown]

PATTERNs are mutant-name globs (``langgap.metrics.bitext.*``); none: every module mutmut
mutated. The kill rate is (killed + rechecked + timeout) / mutants: a mutant no fast test
reaches ("no tests") counts as not killed; "rechecked" are mutants mutmut left alive that
bench/mutation.sh then killed in a fresh interpreter (``mutants/recheck.tsv``: code that runs at
import time or in processes the tests start, which mutmut cannot see). ``--survivors`` lists
every mutant not killed, for triage (``--diffs``: with the source line and the mutated line of
each, as ``mutmut show NAME`` would); ``--names`` only their names, with the mutants no run has
tested yet (``--untested``: those alone; ``--no-recheck``: by mutmut's verdict alone); ``--markdown`` prints the table for docs/testing.md.

``--root`` may be given more than once (the full run's checkout and ``runs/mutation-quick``, the
``QUICK=1`` copy): each mutant then has the best verdict any run gave it. ``--triage FILE``
(``bench/mutation_triage.tsv``: ``name<TAB>verdict<TAB>why``, verdict ``killed`` / ``gone`` by a
test added after the run, ``equiv``, ``cpu-blind``) sorts the survivors by their triage; a survivor
not in the file is "open", and the rate is over the mutants some run tested. A timeout in the file
(verdicts ``rechecked``: the suite kills it run alone; ``hang``: it really loops; or any of the
above) is counted by that verdict instead.
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import json
import os
from collections import Counter
from pathlib import Path

# mutmut 3's exit codes (mutmut/stats.py: status_by_exit_code); anything else is "other"
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 36: "timeout"}
STATUS |= {code: "timeout" for code in (-24, 24, 152, 255)}
COLUMNS = ("killed", "rechecked", "survived", "timeout", "no tests", "other")
NOT_KILLED = ("survived", "no tests", "other")
# a survivor's triage (--triage) and the columns of that table
TRIAGED = {"killed": "new test", "gone": "new test", "equiv": "equivalent", "cpu-blind": "GPU only"}
# a timeout run again on its own (bench/mutant_check.sh under `timeout`): the suite kills it in
# a fresh interpreter (slow tests ran out of time), or it really hangs
TRIAGED |= {"rechecked": "rechecked", "hang": "timeout"}
TRIAGE_COLUMNS = (
    "killed",
    "rechecked",
    "new test",
    "equivalent",
    "GPU only",
    "timeout",
    "open",
    "not tested",
)


def verdicts(root: Path, recheck: bool = True) -> dict[str, dict[str, str]]:
    """``{module path: {mutant name: status}}`` from mutmut's ``mutants/**/*.py.meta`` files, with
    the kills of ``mutants/recheck.tsv`` (``name<TAB>pytest exit code<TAB>tests``) as "rechecked"."""
    rechecked = set()
    table = root / "mutants" / "recheck.tsv"
    if recheck and table.is_file():
        rows = [line.split("\t") for line in table.read_text(encoding="utf-8").splitlines() if line]
        rechecked = {name for name, code, *_ in rows if code in ("1", "2", "3", "124")}
    out: dict[str, dict[str, str]] = {}
    for meta in sorted((root / "mutants" / "src").rglob("*.py.meta")):
        codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        module = str(meta.relative_to(root / "mutants")).removesuffix(".meta")
        out[module] = {}
        for name, code in codes.items():
            status = "not checked" if code is None else STATUS.get(code, "other")
            out[module][name] = "rechecked" if status in NOT_KILLED and name in rechecked else status
    return out


def _function_hashes(root: Path) -> dict[str, str]:
    """mutmut's hash of each mutated function's source when ``root``'s mutants were generated."""
    stats = root / "mutants" / "mutmut-stats.json"
    if not stats.is_file():
        return {}
    return dict(json.loads(stats.read_text(encoding="utf-8")).get("function_hashes", {}))


def newest_root(roots: list[Path]) -> Path:
    """The root whose mutants were generated last (latest ``mutmut-stats.json``; the first root if
    none has one): its mutant numbers are those of the current code."""
    stats = [r for r in roots if (r / "mutants" / "mutmut-stats.json").is_file()]
    return max(stats, key=lambda r: (r / "mutants" / "mutmut-stats.json").stat().st_mtime, default=roots[0])


def merged_verdicts(roots: list[Path], recheck: bool = True) -> dict[str, dict[str, str]]:
    """:func:`verdicts` of several roots, each mutant with the best verdict any of them gave:
    killed (or rechecked), then timeout, then survived / no tests, then not checked.

    Mutant numbers belong to a function's code: a root whose copy of a function differs from the
    newest root's (the latest ``mutmut-stats.json``) has numbered other mutants, so its verdicts
    on that function are left out."""
    order = {"killed": 0, "rechecked": 0, "timeout": 1, "not checked": 3}
    hashes = {root: _function_hashes(root) for root in roots}
    reference = hashes[newest_root(roots)]
    out: dict[str, dict[str, str]] = {}
    for root in roots:
        for module, by_name in verdicts(root, recheck).items():
            mine = out.setdefault(module, {})
            for name, status in by_name.items():
                function = name.rsplit("__mutmut_", 1)[0]
                if reference and hashes[root].get(function) != reference.get(function):
                    continue  # stale: another version of the function
                if name not in mine or order.get(status, 2) < order.get(mine[name], 2):
                    mine[name] = status
    return out


def read_triage(path: Path) -> dict[str, str]:
    """``{mutant name: column}`` from a triage file (``name<TAB>verdict<TAB>why``; ``#`` comments)."""
    out = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        name, verdict, *_ = [*line.split("\t"), ""]
        if verdict not in TRIAGED:
            raise SystemExit(f"{path}:{number}: verdict {verdict!r}; expected one of {', '.join(TRIAGED)}")
        out[name] = TRIAGED[verdict]
    return out


def _function_lines(source: Path, mutant: str) -> range:
    """Lines of the function a mutant belongs to (``x_name`` or ``xǁClassǁname``) in ``source``."""
    mangled = mutant.rpartition(".")[2].rsplit("__mutmut_", 1)[0]
    cls, _, name = mangled[2:].rpartition("ǁ") if mangled.startswith("xǁ") else ("", "", mangled[2:])
    cls = cls.strip("ǁ")
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        body = getattr(node, "body", None)
        if cls and not (isinstance(node, ast.ClassDef) and node.name == cls) or not isinstance(body, list):
            continue
        for fn in body if cls else ast.walk(node):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef) and fn.name == name:
                return range(fn.lineno, (fn.end_lineno or fn.lineno) + 1)
    return range(0)


def describe(root: Path, module: str, mutant: str) -> str:
    """``line N: -original / +mutated`` for one mutant (mutmut's own diff of the function)."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    cwd = os.getcwd()
    os.chdir(root)  # mutmut reads mutants/ relative to the project
    try:
        diff = get_diff_for_mutant(mutant, path=module)
    finally:
        os.chdir(cwd)
    minus = [line[1:] for line in diff.splitlines()[2:] if line.startswith("-")]
    plus = [line[1:] for line in diff.splitlines()[2:] if line.startswith("+")]
    lines = (root / module).read_text(encoding="utf-8").splitlines()
    where = [
        n
        for n in _function_lines(root / module, mutant)
        if minus and lines[n - 1].strip() == minus[0].strip()
    ]
    line = str(where[0]) if where else "?"
    return (
        f"line {line}: -"
        + " / ".join(m.strip() for m in minus)
        + "\n        +"
        + " / ".join(p.strip() for p in plus)
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("patterns", nargs="*", help="mutant-name globs (default: all)")
    ap.add_argument("--survivors", action="store_true", help="list every mutant not killed")
    ap.add_argument("--diffs", action="store_true", help="with --survivors: the line and the mutation")
    ap.add_argument("--names", action="store_true", help="names of the mutants not killed or not yet tested")
    ap.add_argument("--no-recheck", action="store_true", help="mutmut's verdicts alone")
    ap.add_argument("--untested", action="store_true", help="with --names: only the mutants no run tested")
    ap.add_argument("--markdown", action="store_true", help="a markdown table")
    ap.add_argument(
        "--root", type=Path, action="append", help="checkout(s) with mutants/ (default: this one)"
    )
    ap.add_argument("--triage", type=Path, help="survivors' triage (bench/mutation_triage.tsv)")
    args = ap.parse_args()
    roots = args.root or [Path(__file__).resolve().parents[1]]
    triage = read_triage(args.triage) if args.triage else None
    columns = TRIAGE_COLUMNS if triage is not None else COLUMNS

    def column(name: str, status: str) -> str:
        if triage is None:
            return status if status in COLUMNS else "other"
        if status == "not checked":
            return "not tested"
        if status == "timeout":  # killed for mutmut, unless its recheck says otherwise
            return triage.get(name, status)
        return triage.get(name, "open") if status in NOT_KILLED else status

    newest = newest_root(roots)  # --diffs: the mutations as numbered for the current code
    rows, survivors, untested = [], [], []
    total: Counter[str] = Counter()
    for module, by_name in merged_verdicts(roots, recheck=not args.no_recheck).items():
        chosen = {
            n: s
            for n, s in by_name.items()
            if not args.patterns or any(fnmatch.fnmatch(n, p) for p in args.patterns)
        }
        if not chosen:
            continue
        count = Counter(column(n, s) for n, s in chosen.items())
        total.update(count)
        rows.append((module.removeprefix("src/"), len(chosen), count))
        survivors += [(module, n, s) for n, s in chosen.items() if s in NOT_KILLED]
        untested += [n for n, s in chosen.items() if s == "not checked"]
    rows.append(("total", sum(total.values()), total))
    if args.names:  # what a SURVIVORS=1 run tests: the survivors and what no run reached yet
        print("\n".join(sorted(untested + ([] if args.untested else [n for _, n, _ in survivors]))))
        return

    def rate(n: int, c: Counter[str]) -> str:
        tested = n - c["not tested"]  # 0 without --triage: untested mutants count as not killed
        killed = c["killed"] + c["rechecked"] + c["new test"] + c["timeout"]
        return f"{100 * killed / tested:.1f} %" if tested else "-"

    if args.markdown:
        print("| module | mutants | " + " | ".join(columns) + " | kill rate |")
        print("|---|" + "---:|" * (len(columns) + 2))
        for module, n, c in rows:
            print(f"| `{module}` | {n} | " + " | ".join(str(c[k]) for k in columns) + f" | {rate(n, c)} |")
    else:
        w = 8 if triage is None else max(map(len, columns))  # the plain table as it was
        print(
            f"{'module':40} {'mutants':>7} " + " ".join(f"{k:>{w}}" for k in columns) + f" {'kill rate':>9}"
        )
        for module, n, c in rows:
            print(f"{module:40} {n:7d} " + " ".join(f"{c[k]:{w}d}" for k in columns) + f" {rate(n, c):>9}")
    if args.survivors:
        print()
        for module, name, status in sorted(survivors):
            print(f"{status:12} {name}")
            if args.diffs:
                print("        " + describe(newest, module, name))


if __name__ == "__main__":
    main()

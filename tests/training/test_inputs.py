"""Training inputs: --multiway to a pivot (held-out rows never trained on), --pairs folders and
globs, language-balanced sampling, recipes, and the collapse guard."""

from __future__ import annotations

import hashlib
import json
from collections import Counter

import numpy as np
import pytest

from conftest import write_bitext, write_multiway
from langgap.errors import InputError
from langgap.training.composer import BatchComposer
from langgap.training.config import DataConfig, TrainConfig
from langgap.training.guards import CollapseGuard, probe_texts
from langgap.training.inputs import expand, read_training
from langgap.training.recipes import list_recipes, recipe_path


def test_multiway_to_the_pivot_with_held_out_rows(tmp_path):
    mw = write_multiway(tmp_path / "mw", ["eng", "deu", "fra", "swh"], 40)
    cfg = DataConfig(multiway=str(mw), pivot="eng", holdout_rows=0.25)
    cross, mono, held_part, held = read_training(cfg, seed=3)
    assert [(b.src_lang, b.tgt_lang) for b in cross] == [("deu", "eng"), ("fra", "eng"), ("swh", "eng")]
    assert len(held) == 10 and all(len(b) == 30 for b in cross) and not mono
    trained = {t for b in cross for t in b.src + b.tgt}
    held_texts = {t for texts in held_part.texts.values() for t in texts}
    assert len(held_texts) == 40 and not trained & held_texts  # training never sees a held-out sentence
    assert np.array_equal(read_training(cfg, seed=3)[3], held)  # seeded
    assert not np.array_equal(read_training(cfg, seed=4)[3], held)
    all_pairs = read_training(DataConfig(multiway=str(mw), all_pairs=True, langs=("eng", "deu", "fra")))[0]
    assert [(b.src_lang, b.tgt_lang) for b in all_pairs] == [("eng", "deu"), ("eng", "fra"), ("deu", "fra")]


@pytest.mark.parametrize(
    "kw,message",
    [
        ({"pivot": "xxx"}, "--pivot 'xxx': no xxx.txt"),
        ({"pivot": "eng", "holdout_rows": 1.5}, r"--holdout-rows must be in \[0, 1\) \(0: none held out\)"),
        ({}, "--multiway needs --pivot LANG"),
        ({"pivot": "eng", "langs": ("deu",)}, r"--pivot eng is not among --langs \(deu\): add it to --langs"),
        (
            {"pivot": "eng", "holdout_rows": 0.95},
            "--holdout-rows 0.95 holds out 10 of the 10 rows of .*leaving 0",
        ),
        (
            {"pivot": "eng", "holdout_rows": 0.9},
            "--holdout-rows 0.9 holds out 9 of the 10 rows of .*leaving 1",
        ),
    ],
)
def test_bad_multiway_options(tmp_path, kw, message):
    mw = write_multiway(tmp_path / "mw", ["eng", "deu"], 10)
    with pytest.raises(InputError, match=message):
        read_training(DataConfig(multiway=str(mw), **kw))


def test_unequal_multiway_folder_refused(tmp_path):
    mw = write_multiway(tmp_path / "mw", ["eng", "deu"], 10)
    (mw / "deu.txt").write_text("".join(f"deu:{i}\n" for i in range(9)))
    with pytest.raises(InputError, match="unequal line counts"):
        read_training(DataConfig(multiway=str(mw), pivot="eng"))


def test_pairs_folders_and_globs(tmp_path):
    d = tmp_path / "pairs"
    d.mkdir()
    for src in ("deu", "fra", "swh"):
        write_bitext(d / f"{src}-eng.tsv", src, "eng", 5)
    assert [p for _, p in expand(str(d))] == sorted(str(p) for p in d.glob("*.tsv"))
    assert len(expand(str(d / "*-eng.tsv"))) == 3 and len(expand(str(d / "f*.tsv"))) == 1
    with pytest.raises(InputError, match="no .tsv file there"):
        expand(str(tmp_path / "nothing-*.tsv"))


def _bitexts(sizes: dict[str, int]):
    from langgap.data.corpora import Bitext, DataFile

    return [Bitext(s, "eng", [f"{s}:{i}" for i in range(n)], [f"eng-{s}:{i}" for i in range(n)], DataFile(s, "", n))
            for s, n in sizes.items()]  # fmt: skip


def test_language_balanced_sampling_follows_n_to_the_alpha():
    sizes = {"deu": 800, "swh": 50}
    counts = {}
    for alpha in (1.0, 0.3, 0.0):
        comp = BatchComposer(_bitexts(sizes), batch_size=10, cross_lingual_fraction=1.0, sampling_alpha=alpha)
        c = Counter(lang for b in comp for lang in b.langs_a)
        counts[alpha] = c["swh"] / (c["swh"] + c["deu"])
    want = {a: 50**a / (50**a + 800**a) for a in counts}
    for a, share in counts.items():
        assert share == pytest.approx(want[a], abs=0.04), a
    a = BatchComposer(_bitexts(sizes), batch_size=10, cross_lingual_fraction=1.0, sampling_alpha=0.3, seed=1)
    b = BatchComposer(_bitexts(sizes), batch_size=10, cross_lingual_fraction=1.0, sampling_alpha=0.3, seed=1)
    assert [x.texts_a for x in a] == [x.texts_a for x in b]  # deterministic
    for batch in BatchComposer(
        _bitexts(sizes), batch_size=10, cross_lingual_fraction=1.0, sampling_alpha=0.0
    ):
        assert len(set(batch.texts_a + batch.texts_b)) == 20  # still no sentence twice in a batch


def _naive_order(pairs, alpha, rng, block):
    """balanced_order written out: a language pair per draw of ``block`` pairs, each from its own shuffle."""
    groups = {}
    for i, p in enumerate(pairs):
        groups.setdefault((p.lang_a, p.lang_b), []).append(i)
    members = list(groups.values())
    weights = np.array([len(m) ** alpha for m in members], dtype=np.float64)
    picks = rng.choice(len(members), size=(len(pairs) + block - 1) // block, p=weights / weights.sum())
    queues, out = [[] for _ in members], []
    for g in picks:
        for _ in range(block):
            if len(out) == len(pairs):
                return out
            if not queues[g]:
                queues[g] = list(reversed([members[g][j] for j in rng.permutation(len(members[g]))]))
            out.append(queues[g].pop())
    return out


@pytest.mark.parametrize("block", [1, 3, 8])
def test_language_blocks_draw_runs_of_one_language_pair(block):
    from langgap.training.pairs import PairPool, balanced_order

    pairs = PairPool.build(_bitexts({"deu": 50, "swh": 7, "fin": 20}), None).cross
    got = balanced_order(pairs, 0.3, np.random.default_rng(5), block)
    assert got == _naive_order(pairs, 0.3, np.random.default_rng(5), block) and len(got) == len(pairs)
    langs = [pairs[i].lang_a for i in got]
    runs = [langs[i : i + block] for i in range(0, len(langs), block)]
    assert all(len(set(r)) == 1 for r in runs)  # each run of `block` draws is one language pair


def test_language_blocks_put_few_language_pairs_in_a_batch_and_resume():
    sizes = {f"l{k:02d}": 40 for k in range(30)}

    def make(block):
        return BatchComposer(_bitexts(sizes), batch_size=16, cross_lingual_fraction=1.0, sampling_alpha=0.3,
                             language_block=block)  # fmt: skip

    flat = [len(set(b.langs_a)) for b in make(1)]
    grouped = [len(set(b.langs_a)) for b in make(8)]
    assert sum(flat) / len(flat) > 8 and max(grouped) <= 3 and sum(grouped) / len(grouped) <= 2.2
    full, first = [b.texts_a for b in make(8)], make(8)
    it = iter(first)
    head = [next(it).texts_a for _ in range(5)]
    again = make(8)
    again.load_state_dict(first.state_dict())
    assert head + [b.texts_a for b in again] == full
    old = make(1).state_dict()
    del old["language_block"]  # a checkpoint written before the option: block 1
    make(1).load_state_dict(old)
    with pytest.raises(InputError, match="language_block=1"):
        make(8).load_state_dict(old)
    for bad in ({"language_block": 0, "sampling_alpha": 0.3}, {"language_block": 4}):
        with pytest.raises(InputError, match="--language-block must be >= 1 and needs --sampling-alpha"):
            BatchComposer(_bitexts(sizes), batch_size=16, cross_lingual_fraction=1.0, **bad)
        with pytest.raises(InputError, match="--language-block must be >= 1 and needs --sampling-alpha"):
            TrainConfig.from_flat(**bad)


def test_balanced_sampling_resumes_where_it_stopped():
    def make() -> BatchComposer:
        return BatchComposer(
            _bitexts({"deu": 300, "swh": 20}), batch_size=8, cross_lingual_fraction=1.0, sampling_alpha=0.3
        )

    full = [b.texts_a for b in make()]
    first = make()
    it = iter(first)
    head = [next(it).texts_a for _ in range(7)]
    again = make()
    again.load_state_dict(first.state_dict())
    assert head + [b.texts_a for b in again] == full
    other = BatchComposer(_bitexts({"deu": 300, "swh": 20}), batch_size=8, cross_lingual_fraction=1.0)
    with pytest.raises(InputError, match="sampling_alpha"):
        other.load_state_dict(first.state_dict())


def test_upcoming_batches_do_not_move_the_composer():
    comp = BatchComposer(_bitexts({"deu": 40}), batch_size=8, cross_lingual_fraction=1.0)
    ahead = [b.texts_a for b in comp.upcoming(7)]  # 5 batches an epoch: crosses into the next
    assert comp.batch_index == 0 and len(ahead) == 7
    got = [b.texts_a for b in comp] + [b.texts_a for b in comp][:2]
    assert got == ahead
    for n in (1, 5, 6, 11):  # 6 and 11: exactly one batch of the next epoch
        assert len(list(comp.upcoming(n))) == n, n


def test_recipes_listed_read_and_overridden(tmp_path):
    assert "many-languages" in list_recipes() and "many-languages-gpu" in list_recipes()
    cfg = TrainConfig.from_sources(
        None, {"max_steps": 7, "pairs": ["x-y.tsv"]}, recipe_path("many-languages")
    )
    assert (
        cfg.objective.kind == "soft" and cfg.data.sampling_alpha == 0.3 and cfg.optim.max_steps == 7
    )  # the option wins
    with pytest.raises(
        InputError, match="unknown --recipe 'many-language' \\(did you mean 'many-languages'\\?\\)"
    ):
        recipe_path("many-language")
    with pytest.raises(InputError, match="^--recipe nowhere/r.toml: no such file$"):
        recipe_path("nowhere/r.toml")
    v1 = TrainConfig.from_sources(None, {}, recipe_path("many-languages-v1"))
    assert (
        v1.output.recipe_sha256 == hashlib.sha256(recipe_path("many-languages-v1").read_bytes()).hexdigest()
    )
    assert v1.optim.max_steps == 300 and v1.objective.labels == "priority"  # experiment e's recipe, kept
    assert TrainConfig.from_sources(None, {}).output.recipe_sha256 is None
    bad = tmp_path / "r.toml"
    bad.write_text('[train]\nobjectiv = "soft"\n')
    with pytest.raises(InputError, match="unknown setting 'objectiv' \\(did you mean 'objective'\\?\\)"):
        TrainConfig.from_sources(None, {}, bad)


class Collapsing:
    """Every text the same vector once ``collapsed``."""

    def __init__(self) -> None:
        self.collapsed = False

    def encode(self, texts):
        rng = np.random.default_rng(0)
        out = rng.standard_normal((len(texts), 8))
        return np.ones_like(out) + 1e-4 * out if self.collapsed else out


def test_collapse_guard():
    texts = probe_texts([f"t{i}" for i in range(200)], seed=0)
    assert len(texts) == 64 == len(set(texts)) and texts == probe_texts([f"t{i}" for i in range(200)], seed=0)
    guard, enc = CollapseGuard(texts, 0.98), Collapsing()
    assert not guard.check(enc)["collapsed"]
    enc.collapsed = True
    record = guard.check(enc)
    assert record["collapsed"] and record["mean_cosine"] > 0.999


def test_collapse_stops_training_with_the_last_checkpoint(tmp_path, tiny_model_dir, monkeypatch):
    from langgap.training.guards import TrainingCollapsed
    from langgap.training.loop import train

    pairs = tmp_path / "xx-yy.tsv"
    pairs.write_text("".join(f"w{i} w{i + 1}\tw{i} w{i + 2}\n" for i in range(40)))
    cfg = TrainConfig.from_flat(model=str(tiny_model_dir), pairs=(str(pairs),), batch_size=8, max_steps=6, save_every=2,
                      eval_every=3, collapse_threshold=0.05, out=str(tmp_path / "run"))  # fmt: skip
    with pytest.raises(TrainingCollapsed, match="step 0: the embeddings collapsed.*no checkpoint was saved"):
        train(cfg)
    hist = [json.loads(x) for x in (tmp_path / "run" / "eval_history.jsonl").read_text().splitlines()]
    assert hist[-1]["collapse"]["collapsed"] and hist[-1]["collapse"]["threshold"] == 0.05


def test_model_card_and_tensorboard(tmp_path, tiny_model_dir):
    from langgap.training.loop import train

    pairs = tmp_path / "xx-yy.tsv"
    pairs.write_text("".join(f"w{i} w{i + 1}\tw{i} w{i + 2}\n" for i in range(40)))
    sts = tmp_path / "xx-xx.tsv"
    sts.write_text("".join(f"{i % 5}\tw{i} w{i + 1}\tw{i} w{i + 3}\n" for i in range(100, 116)))
    own = tmp_path / "mine.toml"  # a recipe file of one's own (what langgap tune writes)
    own.write_text('description = "tuned"\n[train]\nlr = 1e-4\n')
    cfg = TrainConfig.from_sources(
        None,
        {"model": str(tiny_model_dir), "pairs": [str(pairs)], "batch_size": 8, "max_steps": 3, "recipe": str(own),
         "objective": "infonce", "eval_sts": [str(sts)], "report_to": "tensorboard", "out": str(tmp_path / "run")},
        recipe_path(str(own)),
    )  # fmt: skip
    digest = hashlib.sha256(own.read_bytes()).hexdigest()
    assert cfg.optim.lr == 1e-4 and cfg.output.recipe_sha256 == digest
    res = train(cfg)
    card = (res.model_dir / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: sentence-transformers")  # a local base: no base_model id
    assert f"- **Base model:** `{tiny_model_dir}` (a local folder)" in card
    assert "- xx\n- yy\n---" in card and "# SentenceTransformer based on" in card
    assert "| sts:xx-xx | STS ρ ↑ | " in card and "| step 0 | step 3 |" in card
    assert f"- **Recipe:** {own} (file sha256 {digest[:12]})" in card
    assert "**Output Dimensionality:** 32 dimensions" in card
    assert json.loads((tmp_path / "run" / "config.json").read_text())["config"]["recipe_sha256"] == digest
    events = list((tmp_path / "run" / "logs").rglob("events.out.tfevents.*"))
    assert events and events[0].stat().st_size > 100  # TensorBoard's event file, written offline


def test_report_to_needs_its_package(tmp_path, monkeypatch):
    import accelerate.utils

    from langgap.accel import check_tracker

    monkeypatch.setattr(accelerate.utils, "is_mlflow_available", lambda: False)
    with pytest.raises(InputError, match="--report-to mlflow: not installed here"):
        check_tracker("mlflow")
    with pytest.raises(InputError, match="--report-to 'neptune'"):
        TrainConfig.from_flat(report_to="neptune")

"""Batch composer: fractions, no repeated sentence, language mix, determinism, resume, bad input."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from langgap.data.corpora import Bitext, DataFile
from langgap.data.readers import read_bitext
from langgap.errors import InputError
from langgap.training.composer import BatchComposer
from langgap.training.loop import shard
from langgap.training.pairs import PairPool, read_mono_pairs


def write_bitext(tmp_path, name, rows):
    path = tmp_path / name
    path.write_text("".join(f"{a}\t{b}\n" for a, b in rows), encoding="utf-8")
    return read_bitext(path)


def write_mono(tmp_path, name, rows):
    path = tmp_path / name
    path.write_text("".join(f"{a}\t{b}\n" for a, b in rows), encoding="utf-8")
    return read_mono_pairs(path)


@pytest.fixture
def en_de(tmp_path):
    return write_bitext(tmp_path, "en-de.tsv", [(f"en {i}", f"de {i}") for i in range(40)])


@pytest.fixture
def en_fr(tmp_path):
    return write_bitext(tmp_path, "en-fr.tsv", [(f"en {i}", f"fr {i}") for i in range(40)])


@pytest.fixture
def deu(tmp_path):
    return write_mono(tmp_path, "deu.tsv", [(f"anker {i}", f"positiv {i}") for i in range(30)])


def epoch_batches(composer):
    return list(composer)


def texts_of(batch):
    return [t for a, b in zip(batch.texts_a, batch.texts_b, strict=True) for t in ({a, b})]


def assert_no_repeat(batch):
    texts = texts_of(batch)
    assert len(texts) == len(set(texts)), Counter(texts).most_common(3)


@pytest.mark.parametrize("r, n_cross", [(0.0, 0), (0.2, 2), (0.5, 5), (1.0, 10)])
@pytest.mark.parametrize("with_mono", [True, False])
def test_exact_cross_and_same_language_counts(en_de, deu, r, n_cross, with_mono):
    c = BatchComposer([en_de], [deu] if with_mono else None, batch_size=10, cross_lingual_fraction=r, seed=1)
    n = len(c)
    batches = epoch_batches(c)
    assert batches and len(batches) == n == c.epoch_stats(0).batches
    for b in batches:
        assert len(b) == 10
        assert sum(b.is_cross) == n_cross
        for cross, la, lb in zip(b.is_cross, b.langs_a, b.langs_b, strict=True):
            assert (la != lb) == cross
        assert_no_repeat(b)
    if with_mono and r < 1:
        assert {la for b in batches for la, x in zip(b.langs_a, b.is_cross, strict=True) if not x} == {"deu"}


def test_cross_pairs_mixed_from_all_files(en_de, en_fr):
    c = BatchComposer([en_de, en_fr], None, batch_size=8, cross_lingual_fraction=1.0, seed=0)
    batches = epoch_batches(c)
    mixed = [b for b in batches if {"de", "fr"} <= set(b.langs_b)]
    assert mixed, "no batch mixes en-de and en-fr pairs"
    # "en i" is in both files: the two pairs never share a batch (both sides are checked)
    for b in batches:
        assert_no_repeat(b)
    # the union is shuffled: each file contributes in proportion to its size over the epoch
    placed = [s for b in batches for s in b.source_ids] + c.epoch_stats(0).unplaced
    assert sorted(placed) == sorted(
        [f"{en_de.file.path}:{i}" for i in range(1, 41)] + [f"{en_fr.file.path}:{i}" for i in range(1, 41)]
    )


def test_duplicates_are_deferred_not_lost(tmp_path):
    # 60 pairs over 20 English sentences (each 3 times) and 10 German ones (each 6 times)
    rows = [(f"en {i % 20}", f"de {i % 10}") for i in range(60)]
    bt = write_bitext(tmp_path, "en-de.tsv", rows)
    all_ids = [f"{bt.file.path}:{i}" for i in range(1, 61)]
    for drop_last in (False, True):
        c = BatchComposer([bt], None, batch_size=4, cross_lingual_fraction=1.0, seed=3, drop_last=drop_last)
        batches = epoch_batches(c)
        for b in batches:
            assert_no_repeat(b)
        assert c.epoch_stats(0).deferrals > 0
        seen = [s for b in batches for s in b.source_ids]
        assert len(seen) == len(set(seen))  # no pair twice in an epoch
        if drop_last:
            assert all(len(b) == 4 for b in batches)
            assert sorted(seen + c.epoch_stats(0).unplaced) == sorted(all_ids)
        else:
            assert sorted(seen) == sorted(all_ids) and c.epoch_stats(0).unplaced == []


def test_pairs_that_can_never_fit_are_reported(tmp_path):
    # 8 pairs share "hello": at most one per batch, but 10 pairs make only 5 batches of 2
    rows = [("hello", f"hallo {i}") for i in range(8)] + [("yes", "ja"), ("no", "nein")]
    bt = write_bitext(tmp_path, "en-de.tsv", rows)
    c = BatchComposer([bt], None, batch_size=2, cross_lingual_fraction=1.0, seed=0)
    batches = epoch_batches(c)
    seen = [s for b in batches for s in b.source_ids]
    assert len(batches) == 2 and all(len(b) == 2 for b in batches)
    assert len(c.epoch_stats(0).unplaced) == 6
    assert sorted(seen + c.epoch_stats(0).unplaced) == sorted(f"{bt.file.path}:{i}" for i in range(1, 11))
    # without drop_last every pair is placed, the colliding ones in short batches
    c = BatchComposer([bt], None, batch_size=2, cross_lingual_fraction=1.0, seed=0, drop_last=False)
    seen = [s for b in epoch_batches(c) for s in b.source_ids]
    assert sorted(seen) == sorted(f"{bt.file.path}:{i}" for i in range(1, 11))


def test_same_language_pairs_never_repeat_cross_sentences(en_de):
    # SimCSE pairs (x, x) come from the same sentences as the cross pairs: they must not collide
    c = BatchComposer([en_de], None, batch_size=10, cross_lingual_fraction=0.5, seed=5)
    for epoch in range(3):
        c.set_epoch(epoch)
        for b in c:
            assert_no_repeat(b)


def test_simcse_fallback_when_no_mono_pairs(en_de, en_fr):
    pool = PairPool.build([en_de, en_fr], None)
    assert pool.simcse
    assert all(p.text_a == p.text_b and p.lang_a == p.lang_b for p in pool.mono)
    # one pair per distinct sentence: 40 English (shared by both files) + 40 German + 40 French
    assert len(pool.mono) == 120 and len({p.text_a for p in pool.mono}) == 120
    assert {p.lang_a for p in pool.mono} == {"en", "de", "fr"}
    c = BatchComposer([en_de, en_fr], None, batch_size=10, cross_lingual_fraction=0.2, seed=0)
    sentences = set(en_de.src + en_de.tgt + en_fr.src + en_fr.tgt)
    for b in c:
        for a, p, cross in zip(b.texts_a, b.texts_b, b.is_cross, strict=True):
            if not cross:
                assert a == p and a in sentences
    assert PairPool.build([en_de], []).simcse  # [] means "none given" as well


def test_mono_pair_files_by_name(tmp_path):
    rows = [("a", "b"), ("c", "d")]
    assert read_mono_pairs(_w(tmp_path, "deu.tsv", rows)).src_lang == "deu"
    bt = read_mono_pairs(_w(tmp_path, "fra-fra.tsv", rows))
    assert (bt.src_lang, bt.tgt_lang, bt.src, bt.tgt) == ("fra", "fra", ["a", "c"], ["b", "d"])
    assert read_mono_pairs(_w(tmp_path, "deu_nli.tsv", rows)).tgt_lang == "deu"
    with pytest.raises(InputError, match=r"deu-eng\.tsv: the name gives two languages"):
        read_mono_pairs(_w(tmp_path, "deu-eng.tsv", rows))
    with pytest.raises(InputError, match=r"notes\.tsv: cannot tell the language"):
        read_mono_pairs(_w(tmp_path, "notes.tsv", rows))
    with pytest.raises(InputError, match=r"deu\.tsv:2: expected 2 tab-separated fields"):
        read_mono_pairs(_w(tmp_path, "deu.tsv", [("a", "b"), ("c", "d\te")]))


def _w(tmp_path, name, rows):
    path = tmp_path / name
    path.write_text("".join(f"{a}\t{b}\n" for a, b in rows), encoding="utf-8")
    return path


def test_deterministic_for_a_seed(en_de, en_fr, deu):
    def run(seed):
        c = BatchComposer([en_de, en_fr], [deu], batch_size=8, cross_lingual_fraction=0.5, seed=seed)
        return epoch_batches(c)

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_set_epoch_reshuffles_deterministically(en_de, en_fr):
    c = BatchComposer([en_de, en_fr], None, batch_size=8, cross_lingual_fraction=0.5, seed=0)
    e0 = epoch_batches(c)
    assert c.epoch == 1 and c.batch_index == 0  # an epoch ran out: at the start of the next
    e1 = epoch_batches(c)
    assert e0 != e1

    def cross_ids(batches):
        return sorted(s for b in batches for s, x in zip(b.source_ids, b.is_cross, strict=True) if x)

    assert cross_ids(e0) == cross_ids(e1)  # the same pairs, in another order
    c.set_epoch(0)
    assert epoch_batches(c) == e0
    fresh = BatchComposer([en_de, en_fr], None, batch_size=8, cross_lingual_fraction=0.5, seed=0)
    fresh.set_epoch(1)
    assert epoch_batches(fresh) == e1


def test_state_round_trip_reproduces_the_rest(tmp_path, deu):
    rows = [(f"en {i % 15}", f"de {i % 25}") for i in range(50)]  # many deferrals
    bt = write_bitext(tmp_path, "en-de.tsv", rows)

    def make():
        return BatchComposer([bt], [deu], batch_size=6, cross_lingual_fraction=0.5, seed=11)

    reference = make()
    full = epoch_batches(reference) + epoch_batches(reference)  # two epochs
    assert reference.epoch == 2
    first = make()
    n_epoch0 = len(first)
    assert first.epoch_stats(0).deferrals > 0
    for k in (0, 3, n_epoch0 - 1, n_epoch0):
        run = make()
        it = iter(run)
        done = [next(it) for _ in range(k)]
        state = json.loads(json.dumps(run.state_dict()))
        restored = make()
        restored.load_state_dict(state)
        rest = epoch_batches(restored)
        if k == n_epoch0:  # saved after the last batch of epoch 0: resumes at epoch 1
            assert state["epoch"] == 1 and state["batch_index"] == 0
        rest += epoch_batches(restored) if restored.epoch == 1 else []
        assert done + rest == full


def test_resume_with_the_usual_loop(en_de, deu):
    def make():
        return BatchComposer([en_de], [deu], batch_size=6, cross_lingual_fraction=0.5, seed=2)

    def train(composer, stop_after=None):
        seen, state = [], None
        for epoch in range(composer.epoch, 2):
            composer.set_epoch(epoch)  # a no-op on the restored epoch: the position is kept
            for batch in composer:
                seen.append(batch)
                if stop_after is not None and len(seen) == stop_after:
                    return seen, composer.state_dict()
        return seen, state

    full, _ = train(make())
    head, state = train(make(), stop_after=5)
    resumed = make()
    resumed.load_state_dict(json.loads(json.dumps(state)))
    tail, _ = train(resumed)
    assert head + tail == full


def test_state_from_other_data_or_options_is_refused(en_de, en_fr):
    c = BatchComposer([en_de], None, batch_size=8, cross_lingual_fraction=0.5, seed=0)
    state = c.state_dict()
    with pytest.raises(InputError, match="different training pairs"):
        BatchComposer([en_fr], None, batch_size=8, cross_lingual_fraction=0.5, seed=0).load_state_dict(state)
    with pytest.raises(InputError, match="batch_size=8"):
        BatchComposer([en_de], None, batch_size=4, cross_lingual_fraction=0.5, seed=0).load_state_dict(state)
    with pytest.raises(InputError, match="not a batch-composer state"):
        c.load_state_dict({"epoch": 0})
    with pytest.raises(InputError, match="past the end of epoch 0"):
        c.load_state_dict({**state, "batch_index": len(c) + 1})


@pytest.mark.parametrize("r", [-0.1, 1.5, float("nan")])
def test_fraction_outside_unit_interval(en_de, r):
    with pytest.raises(InputError, match=rf"must be in \[0, 1\], got {r}"):
        BatchComposer([en_de], None, batch_size=8, cross_lingual_fraction=r, seed=0)


def test_bad_inputs(tmp_path, en_de, deu):
    with pytest.raises(InputError, match=r"batch size must be an integer >= 2.*got 1"):
        BatchComposer([en_de], None, batch_size=1, cross_lingual_fraction=0.5, seed=0)
    with pytest.raises(
        InputError, match="cross_lingual_fraction=0.5 asks for 4 cross-language pairs.*--pairs"
    ):
        BatchComposer([], [deu], batch_size=8, cross_lingual_fraction=0.5, seed=0)
    with pytest.raises(InputError, match="same-language pairs per batch, but there are none"):
        BatchComposer([], None, batch_size=8, cross_lingual_fraction=0.0, seed=0)
    assert len(BatchComposer([], [deu], batch_size=8, cross_lingual_fraction=0.0, seed=0)) == 3
    with pytest.raises(InputError, match="40 cross-language pairs cannot fill one batch"):
        BatchComposer([en_de], None, batch_size=64, cross_lingual_fraction=1.0, seed=0)
    unequal = Bitext("en", "de", ["a", "b", "c"], ["x", "y"], DataFile("en-de.tsv", "0" * 64, 3))
    with pytest.raises(InputError, match=r"en-de\.tsv: unequal sides: 3 first-side and 2 second-side"):
        BatchComposer([unequal], None, batch_size=2, cross_lingual_fraction=1.0, seed=0)
    empty = Bitext("en", "de", [], [], DataFile("en-de.tsv", "0" * 64, 0))
    with pytest.raises(InputError, match=r"^en-de\.tsv: no pairs$"):
        BatchComposer([empty], None, batch_size=2, cross_lingual_fraction=1.0, seed=0)
    with pytest.raises(InputError, match=r"en-de\.tsv:2: expected 2 tab-separated fields"):
        write_bitext(tmp_path, "en-de.tsv", [("a", "b"), ("c", "d\te")])
    with pytest.raises(
        InputError, match=r"deu\.tsv: both sides are deu; same-language pairs go to --mono-pairs"
    ):
        BatchComposer([deu], None, batch_size=2, cross_lingual_fraction=1.0, seed=0)
    with pytest.raises(InputError, match=r"en-de\.tsv: same-language pairs expected, got en-de"):
        BatchComposer([en_de], [en_de], batch_size=2, cross_lingual_fraction=0.5, seed=0)
    same = write_bitext(tmp_path, "en-es.tsv", [("hello", f"hola {i}") for i in range(6)])
    with pytest.raises(InputError, match="cannot compose a single batch of 2 cross-language pairs"):
        BatchComposer([same], None, batch_size=2, cross_lingual_fraction=1.0, seed=0)
    tiny = write_mono(tmp_path, "eng.tsv", [("a", "b"), ("c", "d")])
    msg = r"^cannot fill 3 same-language places of batch 0 \(epoch 0\) without repeating a sentence: 2 same-language pairs have too few distinct sentences for this batch size$"
    with pytest.raises(InputError, match=msg):
        BatchComposer([en_de], [tiny], batch_size=4, cross_lingual_fraction=0.25, seed=0)


@pytest.mark.parametrize(
    "batch_size, r", [(8, 0.25), (8, 0.5), (8, 0.75), (12, 0.25), (12, 0.5), (16, 0.3), (16, 0.8)]
)
def test_every_process_shard_gets_its_share_of_cross_pairs(en_de, deu, batch_size, r):
    """Under DDP each process trains on a contiguous slice of the batch (loop.shard): with 2 or 4
    processes every slice holds the batch's cross-language fraction, to within one pair."""
    c = BatchComposer([en_de], [deu], batch_size=batch_size, cross_lingual_fraction=r, seed=4)
    n_cross = c.per_batch[0]
    assert 0 < n_cross < batch_size
    for b in c:
        assert sum(b.is_cross) == n_cross
        for world in (2, 4):
            size = batch_size // world
            for rank in range(world):
                got = sum(b.is_cross[shard(batch_size, rank, world)])
                assert abs(got - size * n_cross / batch_size) < 1, (world, rank, b.is_cross)


def test_secondary_pool_reshuffled_on_every_pass(tmp_path, en_de):
    """8 same-language pairs, 4 per batch, 10 batches: 5 passes over them in one epoch, each a
    whole shuffle of the pool and each in a new order; the same for the same seed."""
    mono = write_mono(tmp_path, "deu.tsv", [(f"anker {i}", f"positiv {i}") for i in range(8)])

    def passes(seed):
        c = BatchComposer([en_de], [mono], batch_size=8, cross_lingual_fraction=0.5, seed=seed)
        drawn = [
            int(s.rsplit(":", 1)[1])
            for b in c
            for s, x in zip(b.source_ids, b.is_cross, strict=True)
            if not x
        ]
        assert c.epoch_stats(0).secondary_passes == 5 and len(drawn) == 40
        return [drawn[i : i + 8] for i in range(0, 40, 8)]

    runs = passes(0)
    for p in runs:
        assert sorted(p) == list(range(1, 9))  # line numbers: each pair once per pass
    for first, second in zip(runs[:-1], runs[1:], strict=True):
        assert first != second, runs
    assert passes(0) == runs
    assert passes(1) != runs


def test_state_at_the_end_of_an_epoch_resumes_at_the_next(en_de, en_fr):
    """A position just past an epoch's last batch (batch_index == len) is the start of the next."""

    def make():
        return BatchComposer([en_de, en_fr], None, batch_size=8, cross_lingual_fraction=0.5, seed=3)

    c = make()
    c.set_epoch(1)
    n = len(c)  # batches of epoch 1
    restored = make()
    restored.load_state_dict({**c.state_dict(), "epoch": 1, "batch_index": n})
    assert (restored.epoch, restored.batch_index) == (2, 0)
    reference = make()
    reference.set_epoch(2)
    assert epoch_batches(restored) == epoch_batches(reference)
    inside = make()
    inside.load_state_dict({**c.state_dict(), "epoch": 1, "batch_index": n - 1})
    assert (inside.epoch, inside.batch_index) == (1, n - 1)


@pytest.mark.parametrize("epoch, index", [(-1, 0), (0, -1), ("0", 0), (0, None), (0.0, 0)])
def test_bad_saved_position_is_refused_by_name(en_de, epoch, index):
    c = BatchComposer([en_de], None, batch_size=8, cross_lingual_fraction=0.5, seed=0)
    state = {**c.state_dict(), "epoch": epoch, "batch_index": index}
    want = rf"^bad batch-composer position: epoch={epoch!r}, batch_index={index!r}$"
    with pytest.raises(InputError, match=want.replace("(", r"\(").replace(")", r"\)")):
        c.load_state_dict(state)


def test_state_of_other_pairs_message(en_de, en_fr):
    state = BatchComposer([en_de], None, batch_size=8, cross_lingual_fraction=0.5, seed=0).state_dict()
    other = BatchComposer([en_fr], None, batch_size=8, cross_lingual_fraction=0.5, seed=0)
    want = f"^the checkpoint's batch composer was built with different training pairs; this one has pairs_sha256='{other.state_dict()['pairs_sha256']}'$"
    with pytest.raises(InputError, match=want):
        other.load_state_dict(state)


@pytest.mark.parametrize("epoch", [-1, True, "1", 1.0])
def test_set_epoch_refuses_what_is_not_an_epoch(en_de, epoch):
    c = BatchComposer([en_de], None, batch_size=8, cross_lingual_fraction=0.5, seed=0)
    with pytest.raises(InputError, match=rf"^epoch must be a non-negative integer, got {epoch!r}$"):
        c.set_epoch(epoch)
    assert (c.epoch, c.batch_index) == (0, 0)


def test_pair_stream_counts_each_deferral_once_and_stops_at_need_and_max_draws():
    """A pair clashing with the batch is deferred (counted once) and comes first next time; the
    queue is served before new draws; never more than ``need`` pairs, nor more draws than asked."""
    from langgap.training.pairs import Pair, PairStream

    pool = [Pair(f"a{t}", f"b{i}", "eng", "deu", f"f:{i}") for i, t in enumerate([0, 0, 1, 2, 2, 3, 4, 5])]
    stream = PairStream(pool, iter(range(8)))
    assert stream.deferrals == 0
    texts: set[str] = set()
    assert stream.fill(3, texts) == [0, 2, 3]  # 1 repeats a0: deferred
    assert (list(stream.queue), stream.deferrals) == ([1], 1)
    assert stream.fill(3, set()) == [1, 4, 5]  # the deferred pair first, then new draws
    assert (list(stream.queue), stream.deferrals) == ([], 1)
    stream = PairStream(pool, iter(range(8)))
    assert stream.fill(5, {"a0", "a1"}, max_draws=3) == []  # draws 0, 1, 2: all clash
    assert (list(stream.queue), stream.deferrals) == ([0, 1, 2], 3)
    assert stream.fill(1, set()) == [0] and list(stream.queue) == [1, 2]  # need 1: one, though 2 fits too


def test_pool_keeps_every_file_in_order_with_its_line_numbers(tmp_path, en_de, en_fr, deu):
    from langgap.training.pairs import PairPool

    eng = write_mono(tmp_path, "eng.tsv", [("a", "b"), ("c", "d")])
    pool = PairPool.build([en_de, en_fr], [deu, eng])
    assert len(pool.cross) == 80 and len(pool.mono) == 32 and not pool.simcse
    assert [
        p.source_id for p in (pool.cross[0], pool.cross[40], pool.mono[0], pool.mono[30], pool.mono[31])
    ] == [
        f"{tmp_path / 'en-de.tsv'}:1",
        f"{tmp_path / 'en-fr.tsv'}:1",
        f"{tmp_path / 'deu.tsv'}:1",
        f"{tmp_path / 'eng.tsv'}:1",
        f"{tmp_path / 'eng.tsv'}:2",
    ]
    assert pool.mono[31][:4] == ("c", "d", "eng", "eng")
    simcse = PairPool.build([en_de])  # no same-language file: (x, x) pairs of each distinct sentence
    assert simcse.simcse and len(simcse.mono) == 80
    assert simcse.mono[0] == ("en 0", "en 0", "en", "en", f"{tmp_path / 'en-de.tsv'}:1:src")
    assert simcse.mono[1] == ("de 0", "de 0", "de", "de", f"{tmp_path / 'en-de.tsv'}:1:tgt")


def test_a_short_last_batch_keeps_the_cross_lingual_fraction(tmp_path):
    """drop_last=False: 42 cross pairs at 4 per batch leave 2 for the last batch, which then gets
    2 same-language pairs (the fraction 0.5 kept), not a full share."""
    cross = write_bitext(tmp_path, "en-de.tsv", [(f"en {i}", f"de {i}") for i in range(42)])
    mono = write_mono(tmp_path, "eng.tsv", [(f"a {i}", f"b {i}") for i in range(200)])
    c = BatchComposer([cross], [mono], batch_size=8, cross_lingual_fraction=0.5, seed=0, drop_last=False)
    batches = epoch_batches(c)
    assert [sum(b.is_cross) for b in batches] == [4] * 10 + [2]
    assert [len(b) - sum(b.is_cross) for b in batches] == [4] * 10 + [2]


def test_epoch_stats_and_log_line_count_deferrals_of_both_pools(tmp_path, caplog):
    """Cross pairs are primary (no clash among them); the same-language pairs share sentences, so
    the deferrals are the secondary pool's: counted in, not subtracted, and logged per epoch."""
    import logging

    cross = write_bitext(tmp_path, "en-de.tsv", [(f"en {i}", f"de {i}") for i in range(40)])
    mono = write_mono(tmp_path, "eng.tsv", [(f"a {i % 5}", f"b {i}") for i in range(60)])
    with caplog.at_level(logging.INFO, logger="langgap.training.composer"):
        c = BatchComposer([cross], [mono], batch_size=8, cross_lingual_fraction=0.5, seed=0)
    stats = c.epoch_stats(0)
    assert stats.epoch == 0 and stats.batches == 10 and stats.deferrals > 0
    want = f"epoch 0: 10 batches, {stats.deferrals} deferrals, 0 cross-language pairs unplaced"
    assert [r.getMessage() for r in caplog.records if r.name == "langgap.training.composer"] == [want]


def test_composer_settings_are_checked_word_for_word(en_de, deu):
    """Types as well as ranges: a float batch size, a bool fraction or seed, a string fraction."""
    ok = dict(batch_size=8, cross_lingual_fraction=0.5, seed=0)
    bad = [
        (dict(sampling_alpha=1.5), r"^--sampling-alpha must be in \[0, 1\], got 1\.5$"),
        (dict(batch_size=8.0), r"^batch size must be an integer >= 2 \(in-batch negatives\), got 8\.0$"),
        (
            dict(cross_lingual_fraction=True),
            r"^cross_lingual_fraction \(--cross-lingual-fraction\) must be in \[0, 1\], got True$",
        ),
        (dict(cross_lingual_fraction="0.5"), r"must be in \[0, 1\], got '0\.5'$"),
        (dict(seed=-1), r"^seed must be a non-negative integer, got -1$"),
        (dict(seed=True), r"^seed must be a non-negative integer, got True$"),
    ]
    for change, msg in bad:
        with pytest.raises(InputError, match=msg):
            BatchComposer([en_de], [deu], **{**ok, **change})
    with pytest.raises(
        InputError,
        match=r"^cross_lingual_fraction=1\.0 asks for 8 cross-language pairs per batch, but there are none: give --pairs files$",
    ):
        BatchComposer([], [deu], batch_size=8, cross_lingual_fraction=1.0)
    with pytest.raises(
        InputError,
        match=r"give --mono-pairs files, or --pairs files \(their sentences then give SimCSE pairs\)$",
    ):
        BatchComposer([], None, batch_size=8, cross_lingual_fraction=0.0)


def test_seed_0_by_default_and_a_warning_when_the_fraction_rounds_to_all_or_nothing(en_de, deu, caplog):
    import logging

    default = epoch_batches(BatchComposer([en_de], [deu], batch_size=8, cross_lingual_fraction=0.5))
    assert default == epoch_batches(
        BatchComposer([en_de], [deu], batch_size=8, cross_lingual_fraction=0.5, seed=0)
    )
    assert default != epoch_batches(
        BatchComposer([en_de], [deu], batch_size=8, cross_lingual_fraction=0.5, seed=1)
    )
    warned = {}
    for r in (0.0, 0.05, 0.5, 0.95, 1.0):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="langgap.training.composer"):
            BatchComposer([en_de], [deu], batch_size=8, cross_lingual_fraction=r, seed=0)
        warned[r] = [x.getMessage() for x in caplog.records if x.levelno == logging.WARNING]
    assert warned == {
        0.0: [],
        0.05: ["cross_lingual_fraction=0.05 with batch size 8 gives 0 cross-language pairs per batch"],
        0.5: [],
        0.95: ["cross_lingual_fraction=0.95 with batch size 8 gives 8 cross-language pairs per batch"],
        1.0: [],
    }


def test_a_pool_that_exactly_fills_one_batch_is_enough(tmp_path):
    exact = write_bitext(tmp_path, "en-de.tsv", [(f"en {i}", f"de {i}") for i in range(8)])
    assert (
        len(epoch_batches(BatchComposer([exact], None, batch_size=8, cross_lingual_fraction=1.0, seed=0)))
        == 1
    )


def test_sampling_alpha_takes_both_bounds_and_changes_the_order(en_de, en_fr):
    def batches(alpha):
        c = BatchComposer(
            [en_de, en_fr], None, batch_size=8, cross_lingual_fraction=1.0, seed=0, sampling_alpha=alpha
        )
        return [b.source_ids for b in epoch_batches(c)]

    plain = batches(None)
    for alpha in (0.0, 0.5, 1.0):
        assert batches(alpha) != plain, alpha

"""The training loop on the tiny model: learning, outputs, teacher cache, freezing, NaN, config."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.optim.optimizer import register_optimizer_step_pre_hook

from langgap.encoders.st import forward
from langgap.errors import InputError
from langgap.losses import info_nce
from langgap.training.checkpoint import list_checkpoints
from langgap.training.config import ObjectiveConfig, TrainConfig, resolve_mixed_precision
from langgap.training.inputs import build_composer
from langgap.training.loop import TrainingDiverged, shard, step_seed, train
from langgap.training.pairs import Pair
from langgap.training.setup import adamw
from langgap.training.teacher import language_priority, orient, teacher_texts


def write_pairs(path: Path, n: int = 64, start: int = 0) -> Path:
    """``w{i} w{i+1}`` <TAB> ``w{i} w{i+2}``: tiny-vocab pairs that share their first word (easy)."""
    rows = [f"w{i} w{i + 1}\tw{i} w{i + 2}\n" for i in range(start, start + n)]
    path.write_text("".join(rows), encoding="utf-8")
    return path


def write_sts(path: Path, n: int = 12) -> Path:
    rows = [f"{i % 5}\tw{i} w{i + 1}\tw{i} w{i + 3}\n" for i in range(100, 100 + n)]
    path.write_text("".join(rows), encoding="utf-8")
    return path


def config(tmp_path: Path, model: Path, **kw) -> TrainConfig:
    base = dict(
        model=str(model),
        pairs=(str(write_pairs(tmp_path / "xx-yy.tsv")),),
        batch_size=8,
        max_steps=4,
        lr=1e-3,
        save_every=0,
        out=str(tmp_path / "run"),
    )
    return TrainConfig.from_flat(**{**base, **kw})


@pytest.fixture(scope="module")
def still_model_dir(tiny_model_dir, tmp_path_factory) -> Path:
    """The tiny model without dropout: a training step is a pure function of its batch."""
    dst = tmp_path_factory.mktemp("still") / "model"
    shutil.copytree(tiny_model_dir, dst)
    cfg = json.loads((dst / "config.json").read_text())
    cfg["hidden_dropout_prob"] = cfg["attention_probs_dropout_prob"] = 0.0
    (dst / "config.json").write_text(json.dumps(cfg))
    return dst


class Counting:
    """Wraps an encoder and records every call (the teacher-cache test)."""

    def __init__(self, inner, dimension: int = 32) -> None:
        self.inner, self.dimension = inner, dimension
        self.calls: list[list[str]] = []

    def encode(self, texts):
        self.calls.append(list(texts))
        return self.inner.encode(texts)


def test_shard_tiles_the_batch_in_order():
    assert [shard(8, i, 2) for i in range(2)] == [slice(0, 4), slice(4, 8)]
    rows = [r for i in range(4) for r in range(12)[shard(12, i, 4)]]
    assert rows == list(range(12))
    assert shard(5, 0, 1) == slice(0, 5)
    with pytest.raises(InputError, match="divisible by the number of processes"):
        shard(10, 0, 4)
    with pytest.raises(ValueError, match="out of range"):
        shard(8, 2, 2)


def test_fusedadamw_matches_the_per_tensor_one():
    """The fast path (fused kernel) against plain AdamW: same parameters after a few steps."""
    torch.manual_seed(0)
    start = [torch.randn(50, 8), torch.randn(8)]
    grads = [[torch.randn_like(p) for p in start] for _ in range(5)]
    results = []
    for make in (adamw, lambda g, lr: torch.optim.AdamW(g, lr=lr, foreach=False)):
        params = [torch.nn.Parameter(p.clone()) for p in start]
        opt = make(
            [{"params": params[:1], "weight_decay": 0.01}, {"params": params[1:], "weight_decay": 0.0}], 1e-2
        )
        for g in grads:
            for p, gp in zip(params, g, strict=True):
                p.grad = gp.clone()
            opt.step()
        results.append(params)
    assert any(
        g.get("fused") for g in adamw([{"params": [torch.nn.Parameter(torch.ones(2))]}], 1.0).param_groups
    )
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    for moved, s in zip(results[0], start, strict=True):
        assert not torch.allclose(moved, s)  # the steps did something to compare


def test_step_seed_depends_on_step_and_process_only():
    assert step_seed(0, 3, 0) == step_seed(0, 3, 0)
    assert len({step_seed(0, 3, 0), step_seed(0, 4, 0), step_seed(0, 3, 1), step_seed(1, 3, 0)}) == 4


def test_priority_by_corpus_size_and_orientation():
    pairs = [Pair(f"en{i}", f"de{i}", "en", "de", "") for i in range(3)]
    pairs += [Pair(f"fr{i}", f"en{i + 3}", "fr", "en", "") for i in range(3)]
    order = language_priority(pairs)
    assert order[0] == "en" and set(order) == {"en", "de", "fr"}
    assert language_priority(pairs, ["fr"])[:2] == ["fr", "en"]
    first, second = orient(pairs, order)
    assert first == [f"en{i}" for i in range(6)] and second[3:] == [f"fr{i}" for i in range(3)]
    assert teacher_texts(ObjectiveConfig(kind="soft"), pairs, order) == [f"en{i}" for i in range(6)]
    assert len(teacher_texts(ObjectiveConfig(kind="soft", labels="average"), pairs, order)) == 12


def test_config_toml_overrides_and_bad_values(tmp_path):
    toml = tmp_path / "t.toml"
    toml.write_text('[train]\nobjective = "soft"\nbatch-size = 16\npairs = ["a.tsv"]\nlr = 1\n')
    cfg = TrainConfig.from_sources(toml, {"batch_size": 8, "labels": None})
    assert (cfg.objective.kind, cfg.optim.batch_size, cfg.data.pairs, cfg.optim.lr, cfg.objective.labels) == (
        "soft",
        8,
        ("a.tsv",),
        1.0,
        "priority",
    )
    toml.write_text("batch_sise = 3\n")
    with pytest.raises(InputError, match="unknown setting 'batch_sise' \\(did you mean 'batch_size'\\?\\)"):
        TrainConfig.from_sources(toml, {})
    toml.write_text('epochs = "two"\n')
    with pytest.raises(InputError, match="epochs = 'two' is not a valid int"):
        TrainConfig.from_sources(toml, {})
    with pytest.raises(InputError, match="unknown --objective 'infonc' \\(did you mean 'infonce'\\?\\)"):
        TrainConfig.from_flat(objective="infonc")
    with pytest.raises(InputError, match=r"--cross-lingual-fraction must be in \[0, 1\], got 1.5"):
        TrainConfig.from_flat(cross_lingual_fraction=1.5)
    assert resolve_mixed_precision("auto", cuda=False, bf16=False) == "no"
    assert resolve_mixed_precision("auto", cuda=True, bf16=True) == "bf16"
    assert resolve_mixed_precision("auto", cuda=True, bf16=False) == "fp16"
    assert (
        resolve_mixed_precision("auto", cuda=False, bf16=False, cpu_bf16=True) == "no"
    )  # not measured faster
    assert resolve_mixed_precision("bf16", cuda=False, bf16=False, cpu_bf16=True) == "bf16"
    assert resolve_mixed_precision("bf16", cuda=True, bf16=True) == "bf16"
    assert resolve_mixed_precision("no", cuda=False, bf16=False) == "no"
    with pytest.raises(
        InputError,
        match="--mixed-precision bf16: this CPU has no native bf16 .* use --mixed-precision no or auto",
    ):
        resolve_mixed_precision("bf16", cuda=False, bf16=False)


def test_loss_goes_down_and_outputs_are_written(tmp_path, tiny_model_dir):
    cfg = config(tmp_path, tiny_model_dir, max_steps=20, batch_size=16, warmup_ratio=0.1)
    seen = []
    res = train(cfg, progress=lambda *a: seen.append(a))
    losses = res.losses
    assert len(losses) == 20 and all(np.isfinite(losses))
    assert np.mean(losses[-4:]) < 0.7 * np.mean(losses[:4]), losses
    assert [s[0] for s in seen] == list(range(1, 21)) and all(s[1] == 20 and s[3] > 0 for s in seen)
    log = [json.loads(x) for x in (res.out / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == list(range(1, 21))
    assert set(log[0]) == {"step", "epoch", "loss", "lr", "pairs_per_s", "elapsed"}
    assert log[0]["lr"] == 0.0 and max(r["lr"] for r in log) == pytest.approx(1e-3)  # warm-up, decay
    conf = json.loads((res.out / "config.json").read_text())
    assert conf["config"]["batch_size"] == 16 and conf["resolved"]["prompt"] == "query: "
    assert conf["resolved"]["mixed_precision"] == "no" and conf["resolved"]["total_steps"] == 20


def test_saved_model_loads_and_encodes_like_the_student(tmp_path, tiny_model_dir):
    from sentence_transformers import SentenceTransformer

    res = train(config(tmp_path, tiny_model_dir, prompt="query: "))
    loaded = SentenceTransformer(str(res.model_dir))
    assert loaded.prompts["query"] == "query: " and loaded.default_prompt_name == "query"
    cfg = json.loads((res.model_dir / "config_sentence_transformers.json").read_text())
    assert cfg["prompts"]["query"] == "query: " and cfg["default_prompt_name"] == "query"
    texts = ["w1 w2", "w3 w4 w5", "w7"]
    res.model.eval()
    with torch.no_grad():
        ours = forward(res.model, res.model, texts, "query: ", torch.device("cpu")).numpy()
    np.testing.assert_allclose(loaded.encode(texts), ours, atol=1e-5)
    start = SentenceTransformer(str(tiny_model_dir)).encode(texts, prompt="query: ")
    assert not np.allclose(start, ours, atol=1e-4)  # it did train


def test_eval_history_with_guard(tmp_path, tiny_model_dir):
    bt = write_pairs(tmp_path / "eng-deu.tsv", n=16, start=150)
    sts = write_sts(tmp_path / "en-en.tsv")
    records = []
    cfg = config(
        tmp_path,
        tiny_model_dir,
        eval_bitext=(str(bt),),
        eval_sts=(str(sts),),
        english_guard=str(sts),
        eval_every=2,
    )
    res = train(cfg, on_eval=records.append)
    hist = [json.loads(x) for x in (res.out / "eval_history.jsonl").read_text().splitlines()]
    assert [r["step"] for r in hist] == [0, 2, 4] and hist == res.eval_history
    assert [r["step"] for r in records] == [0, 2, 4]
    assert {"bitext:eng-deu", "sts:en-en"} <= set(hist[0]["tasks"])
    assert "bitext_accuracy" in hist[0]["summary"]
    g = hist[0]["english_guard"]
    assert g["metric"] == "spearman" and g["drop"] == 0 and g["warning"] is False
    assert all(r["english_guard"]["baseline"] == g["value"] for r in hist)


def test_guard_warns_when_english_drops(tmp_path, tiny_model_dir, caplog, monkeypatch):
    from langgap.training.evaluate import Evaluator

    guard = write_pairs(tmp_path / "en-en.tsv", n=16, start=120)  # paraphrase pairs: cosine_gap
    res = train(config(tmp_path, tiny_model_dir, english_guard=str(guard), max_steps=2))
    assert [r["english_guard"]["metric"] for r in res.eval_history] == ["cosine_gap"] * 2
    values = iter([0.80, 0.75])  # the guard falls by 0.05 > 0.02
    monkeypatch.setattr(Evaluator, "guard_value", lambda self, encoder: next(values))
    with caplog.at_level("WARNING", logger="langgap.training.evaluate"):
        res = train(
            config(tmp_path, tiny_model_dir, english_guard=str(guard), max_steps=2, out=str(tmp_path / "b"))
        )
    g = res.eval_history[-1]["english_guard"]
    assert (g["baseline"], g["value"], g["warning"]) == (0.80, 0.75, True) and g["drop"] == pytest.approx(
        0.05
    )
    assert "English guard: cosine_gap" in caplog.text and "fell by 0.0500" in caplog.text


def test_teacher_embeds_only_scheduled_texts_ahead_of_need(tmp_path, tiny_model_dir, monkeypatch):
    """Two steps of 8 pairs from a pool of 64: the teacher embeds those 16 texts, not the pool,
    one step ahead of need (PREFETCH_STEPS = 1), each text once."""
    import langgap.training.loop as loop
    from langgap.encoders.st import SentenceTransformerEncoder

    monkeypatch.setattr(loop, "PREFETCH_STEPS", 1)
    teacher = Counting(SentenceTransformerEncoder(str(tiny_model_dir), prompt="query: "))
    seen: list[int] = []
    cfg = config(tmp_path, tiny_model_dir, objective="soft", max_steps=2)
    train(cfg, teacher=teacher, progress=lambda step, *_: seen.append(len(teacher.calls)))
    embedded = [t for call in teacher.calls for t in call]
    assert len(embedded) == 16 == len(set(embedded)) and seen == [1, 2]  # a call before each step


def test_teacher_embeddings_survive_a_resume_on_disk(tmp_path, tiny_model_dir):
    from test_resume import Interrupt, stop_after

    cfg = config(
        tmp_path, tiny_model_dir, objective="soft", teacher=str(tiny_model_dir), max_steps=6, save_every=2
    )
    with pytest.raises(Interrupt):
        train(cfg, progress=stop_after(3))
    res = train(cfg, resume=True)
    assert res.teacher_stats["encoded"] == 0 and res.teacher_stats["from_cache"] > 0  # read back, not redone


@pytest.mark.parametrize("labels", ["priority", "average"])
def test_teacher_embeddings_computed_once(tmp_path, tiny_model_dir, labels):
    from langgap.encoders.st import SentenceTransformerEncoder

    teacher = Counting(SentenceTransformerEncoder(str(tiny_model_dir), prompt="query: "))
    steps_seen_at_call: list[int] = []
    cfg = config(tmp_path, tiny_model_dir, objective="soft", labels=labels, tcm_weight=0.5, max_steps=6)
    res = train(cfg, teacher=teacher, progress=lambda step, *_: steps_seen_at_call.append(len(teacher.calls)))
    embedded = [t for call in teacher.calls for t in call]
    assert len(embedded) == len(set(embedded))  # each text once
    first = [f"w{i} w{i + 1}" for i in range(64)]  # xx side: tie in size, so file order
    want = set(first) if labels == "priority" else set(first) | {f"w{i} w{i + 2}" for i in range(64)}
    assert set(embedded) == want
    assert set(steps_seen_at_call) == {len(teacher.calls)}  # no teacher call during training
    assert len(res.losses) == 6 and all(np.isfinite(res.losses))


def test_mse_objective_trains_and_teacher_dim_is_checked(tmp_path, tiny_model_dir):
    from langgap.encoders.st import SentenceTransformerEncoder

    teacher = SentenceTransformerEncoder(str(tiny_model_dir), prompt="query: ")
    res = train(config(tmp_path, tiny_model_dir, objective="mse", max_steps=3), teacher=teacher)
    assert all(np.isfinite(res.losses))
    narrow = Counting(teacher, dimension=16)
    with pytest.raises(
        InputError, match="mse needs a teacher of the student's dimension: .* 16, the student 32"
    ):
        train(config(tmp_path, tiny_model_dir, objective="mse", out=str(tmp_path / "b")), teacher=narrow)
    assert narrow.calls == []  # refused before embedding anything
    # soft labels accept any teacher dimension
    res = train(
        config(tmp_path, tiny_model_dir, objective="soft", out=str(tmp_path / "c"), max_steps=2),
        teacher=narrow,
    )
    assert len(res.losses) == 2


def test_freeze_embeddings_keeps_the_matrix(tmp_path, tiny_model_dir):
    from sentence_transformers import SentenceTransformer

    start = SentenceTransformer(str(tiny_model_dir))[0].auto_model
    res = train(config(tmp_path, tiny_model_dir, freeze_embeddings=True, weight_decay=0.1))
    model = res.model[0].auto_model
    assert torch.equal(model.get_input_embeddings().weight, start.get_input_embeddings().weight)
    assert not torch.equal(
        model.encoder.layer[0].attention.self.query.weight, start.encoder.layer[0].attention.self.query.weight
    )


def test_grad_accum_and_cached_path_run(tmp_path, tiny_model_dir):
    res = train(config(tmp_path, tiny_model_dir, grad_accum=2, cache_chunk=3, objective="soft", max_steps=3))
    assert len(res.losses) == 3 and all(np.isfinite(res.losses))
    conf = json.loads((res.out / "config.json").read_text())
    assert conf["resolved"]["batches_per_epoch"] == 8


def test_runs_in_one_process_may_change_mixed_precision(tmp_path, tiny_model_dir, native_bf16):
    """(On a CPU reporting native bf16: elsewhere bf16 training is refused, as the next test shows.)"""
    train(config(tmp_path, tiny_model_dir, max_steps=1, out=str(tmp_path / "a")))
    res = train(
        config(tmp_path, tiny_model_dir, max_steps=1, mixed_precision="bf16", out=str(tmp_path / "b"))
    )
    assert json.loads((res.out / "config.json").read_text())["resolved"]["mixed_precision"] == "bf16"
    assert np.isfinite(res.losses[0])


def test_bf16_training_on_a_cpu_without_it_is_refused_before_reading_data(
    tmp_path, tiny_model_dir, monkeypatch
):
    monkeypatch.setattr("langgap.training.setup.read_inputs", lambda *a: pytest.fail("data read"))
    with pytest.raises(InputError, match="--mixed-precision bf16: this CPU has no native bf16"):
        train(config(tmp_path, tiny_model_dir, max_steps=1, mixed_precision="bf16"))
    assert not (tmp_path / "run").exists() or not any((tmp_path / "run").iterdir())


def test_nan_loss_stops_with_last_good_checkpoint(tmp_path, tiny_model_dir, monkeypatch):
    import langgap.losses.contrastive as contrastive_mod

    real = contrastive_mod.info_nce
    calls = []

    def poisoned(*args, **kwargs):
        calls.append(1)
        loss = real(*args, **kwargs)
        return loss * float("nan") if len(calls) == 5 else loss

    monkeypatch.setattr(contrastive_mod, "info_nce", poisoned)
    cfg = config(tmp_path, tiny_model_dir, max_steps=8, save_every=2)
    with pytest.raises(
        TrainingDiverged, match=r"step 5: the loss is nan; .* last good checkpoint is .*step-4"
    ):
        train(cfg)
    assert [s for s, _ in list_checkpoints(cfg.output.out)] == [2, 4]
    state = json.loads((Path(cfg.output.out) / "checkpoints" / "step-4" / "trainer_state.json").read_text())
    assert state["step"] == 4
    assert not (Path(cfg.output.out) / "model").exists()
    log = (Path(cfg.output.out) / "train_log.jsonl").read_text().splitlines()
    assert len(log) == 4  # nothing written for the bad step


def test_training_records_and_warns_about_overlap(tmp_path, tiny_model_dir, caplog):
    # training pairs are lines 0..63 of write_pairs; the evaluation file repeats 4 of them
    shared = write_pairs(tmp_path / "eng-deu.tsv", n=8, start=60)
    cfg = config(tmp_path, tiny_model_dir, eval_bitext=(str(shared),), max_steps=1)
    with caplog.at_level(logging.WARNING, logger="langgap.training.loop"):
        res = train(cfg)
    rows = json.loads((res.out / "config.json").read_text())["resolved"]["eval_overlap"]
    # eval texts: w60 w61 .. w67 w68 (src) and w60 w62 .. w67 w69 (tgt); training has w0..w63 starts
    assert rows == [{"name": str(shared), "texts": 16, "shared": 8, "share": 0.5}]
    assert any("8 of its 16 distinct texts" in r.getMessage() for r in caplog.records)


def test_margin_and_temperature_reach_the_logged_loss(tmp_path, still_model_dir):
    """Step 1's logged loss is info_nce with the run's --margin and --temperature on the first
    batch as the starting model embeds it (the loss is taken before the optimizer step)."""
    from sentence_transformers import SentenceTransformer

    cfg = config(tmp_path, still_model_dir, margin=0.3, temperature=0.1, max_steps=1)
    res = train(cfg)
    logged = json.loads((res.out / "train_log.jsonl").read_text().splitlines()[0])["loss"]
    composer = build_composer(cfg.data, cfg.optim)
    first, second = orient(next(iter(composer)), language_priority(composer.pool.cross))
    st = SentenceTransformer(str(still_model_dir))
    with torch.no_grad():
        e = forward(st, st, first + second, res.prompt, torch.device("cpu"))  # (2B, D)
    n = len(first)

    def direct(margin: float) -> float:
        return float(info_nce(e[:n], e[n:], temperature=0.1, margin=margin))

    assert abs(direct(0.3) - direct(0.0)) > 0.1  # the margin matters on this batch
    assert logged == pytest.approx(direct(0.3), abs=1e-5)


@pytest.mark.parametrize("cache_chunk", [0, 3])
def test_grad_accum_averages_the_micro_batch_gradients(tmp_path, still_model_dir, cache_chunk):
    """Two micro-batches holding the same 8 pairs (every batch of an 8-pair file does): the
    optimizer sees the gradient of one batch (the mean), not twice it (the sum), as with
    grad_accum=1; on the plain and the GradCache path. Clipping is off, so the gradient reaches
    the optimizer as accumulated."""
    (tmp_path / "few").mkdir()
    pairs = write_pairs(tmp_path / "few" / "xx-yy.tsv", n=8)  # config() writes its own xx-yy.tsv
    seen: dict[int, list[list[torch.Tensor]]] = {1: [], 2: []}
    accum = 1

    def record(optimizer, args, kwargs):
        params = [p for g in optimizer.param_groups for p in g["params"] if p.grad is not None]
        seen[accum].append([p.grad.clone() for p in params])

    handle = register_optimizer_step_pre_hook(record)
    try:
        for accum in (1, 2):
            cfg = config(
                tmp_path,
                still_model_dir,
                pairs=(str(pairs),),
                grad_accum=accum,
                cache_chunk=cache_chunk,
                max_steps=1,
                max_grad_norm=0.0,
                out=str(tmp_path / f"accum{accum}"),
            )
            train(cfg)
    finally:
        handle.remove()
    assert len(seen[1]) == len(seen[2]) == 1  # one optimizer step each
    (one,), (two,) = seen[1], seen[2]
    assert len(one) == len(two) and max(float(g.abs().max()) for g in one) > 1e-3
    for g1, g2 in zip(one, two, strict=True):
        torch.testing.assert_close(g2, g1, rtol=1e-4, atol=1e-6)


def test_length_buckets_give_the_same_embeddings_and_gradients(tiny_model_dir):
    """Forwards of similar-length texts, rows put back in order: the one-forward result (padding
    changes nothing under mean pooling with an attention mask), gradients included."""
    from sentence_transformers import SentenceTransformer

    from langgap.training.loop import bucketed

    st = SentenceTransformer(str(tiny_model_dir))
    st.eval()  # no dropout: both paths see the same network
    texts = ["w1", "w1 w2 w3 w4 w5 w6 w7 w8", "w9 w8", "w3 w3 w3", "w7 w6 w5 w4 w3", "w2", "w5 w6 w7", "w8"]

    def emb(t):
        return forward(st, st, t, "query: ", "cpu")

    grads = []
    for buckets in (1, 3):
        st.zero_grad()
        e = bucketed(emb, texts, buckets, st)
        (e * torch.arange(e.numel(), dtype=e.dtype).reshape(e.shape)).sum().backward()
        grads.append([p.grad.clone() for p in st.parameters() if p.grad is not None])
        if buckets == 1:
            one = e.detach()
        else:
            torch.testing.assert_close(e.detach(), one, rtol=1e-5, atol=1e-6)
    for a, b in zip(*grads, strict=True):
        # float32 sums in another order: differences scale with the tensor (up to ~4,000 here), so
        # an element that cancels to ~1e-3 may differ by 1e-6 (seen: 1.07e-6 on 0.0007)
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6 * max(1.0, float(b.abs().max())))


@pytest.fixture(scope="module")
def headed_model_dir(tiny_hf_dir, tmp_path_factory) -> Path:
    """The tiny model with a Dense 32 -> 32 head after pooling: trainable beyond the transformer."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers import models as st_models

    word = st_models.Transformer(str(tiny_hf_dir), max_seq_length=64)
    st = SentenceTransformer(modules=[word, st_models.Pooling(32, "mean"), st_models.Dense(32, 32)])
    folder = tmp_path_factory.mktemp("headed")
    st.save(str(folder))
    return folder


def _weights(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.named_parameters()}


def test_freeze_layers_keeps_the_bottom_layers_and_trains_the_top(tmp_path, tiny_model_dir):
    """--freeze-layers 1 on the 2-layer tiny model: the input embeddings (word, position,
    token-type, LayerNorm) and layer 0 are bit-identical after training; layer 1 moved. A "top"
    instead of "bottom" would freeze layer 1 and train layer 0 and the embeddings."""
    from sentence_transformers import SentenceTransformer

    start = SentenceTransformer(str(tiny_model_dir))[0].auto_model
    res = train(config(tmp_path, tiny_model_dir, freeze_layers=1, weight_decay=0.1))
    model = res.model[0].auto_model
    embeddings, bottom = _weights(model.embeddings), _weights(model.encoder.layer[0])
    top = _weights(model.encoder.layer[1])
    assert {"word_embeddings.weight", "position_embeddings.weight", "LayerNorm.weight"} <= set(embeddings)
    for name, before in _weights(start.embeddings).items():
        assert torch.equal(embeddings[name], before), name
    for name, before in _weights(start.encoder.layer[0]).items():
        assert torch.equal(bottom[name], before), name
    moved = [
        name
        for name, before in _weights(start.encoder.layer[1]).items()
        if not torch.equal(top[name], before)
    ]
    assert len(moved) == len(top)  # every weight of the top layer trained
    conf = json.loads((res.out / "config.json").read_text())
    assert conf["config"]["freeze_layers"] == 1
    trainable = sum(p.numel() for p in model.encoder.layer[1].parameters())
    trainable += sum(p.numel() for p in model.pooler.parameters())  # unused by mean pooling, not frozen
    assert conf["resolved"]["trainable_parameters"] == trainable
    assert "- `freeze_layers`: `1`" in (res.model_dir / "README.md").read_text()  # the model card


def test_frozen_layers_get_no_gradient_and_no_backward_pass(tiny_model_dir):
    """After freeze_layers(st, 1) a backward leaves .grad None on the embeddings and layer 0, and
    autograd records nothing there: layer 0's output needs no gradient, layer 1's does."""
    from sentence_transformers import SentenceTransformer

    from langgap.training.freeze import freeze_layers

    st = SentenceTransformer(str(tiny_model_dir))
    freeze_layers(st, 1)
    model = st[0].auto_model
    needs_grad: dict[str, bool] = {}

    def hook(name: str):
        return lambda module, args, out: needs_grad.__setitem__(name, out[0].requires_grad)

    handles = [
        model.embeddings.register_forward_hook(
            lambda m, a, out: needs_grad.__setitem__("emb", out.requires_grad)
        )
    ]
    handles += [layer.register_forward_hook(hook(f"layer{i}")) for i, layer in enumerate(model.encoder.layer)]
    try:
        forward(st, st, ["w1 w2", "w3 w4 w5"], "query: ", torch.device("cpu")).sum().backward()
    finally:
        for h in handles:
            h.remove()
    assert needs_grad == {"emb": False, "layer0": False, "layer1": True}
    for name, p in model.named_parameters():
        if name.startswith(("embeddings.", "encoder.layer.0.")):
            assert not p.requires_grad and p.grad is None, name
        elif name.startswith("encoder.layer.1."):
            assert p.requires_grad and p.grad is not None and p.grad.abs().sum() > 0, name


def test_freeze_layers_refuses_more_layers_than_the_model_has(tmp_path, tiny_model_dir, headed_model_dir):
    from sentence_transformers import SentenceTransformer

    from langgap.training.freeze import freeze_layers

    with pytest.raises(InputError, match=r"^--freeze-layers 3: the model has 2 transformer layers$"):
        freeze_layers(SentenceTransformer(str(tiny_model_dir)), 3)
    with pytest.raises(InputError, match=r"^--freeze-layers must be >= 0, got -1$"):
        TrainConfig.from_flat(freeze_layers=-1)
    with pytest.raises(InputError, match=r"^--freeze-layers 3: the model has 2 transformer layers$"):
        train(config(tmp_path, tiny_model_dir, freeze_layers=3))
    # every layer: allowed only while something else trains (not the unused BERT pooler)
    with pytest.raises(
        InputError, match=r"^no trainable parameters \(--freeze-layers 2 froze the whole transformer\)$"
    ):
        train(config(tmp_path, tiny_model_dir, freeze_layers=2, out=str(tmp_path / "all")))
    start = SentenceTransformer(str(headed_model_dir))
    res = train(config(tmp_path, headed_model_dir, freeze_layers=2, out=str(tmp_path / "head")))
    for name, before in _weights(start[0]).items():
        assert torch.equal(dict(res.model[0].named_parameters())[name], before), name
    head = dict(res.model[2].named_parameters())
    assert all(not torch.equal(head[name], before) for name, before in _weights(start[2]).items())


def test_length_buckets_default_and_small_batches():
    """Two buckets by default; a batch of fewer than 2 texts per bucket is one forward."""
    from langgap.training.loop import bucketed

    assert TrainConfig().optim.length_buckets == 2
    calls: list[int] = []

    def emb(texts: list[str]) -> torch.Tensor:
        calls.append(len(texts))
        return torch.tensor([[float(t[1:])] for t in texts])  # (N, 1): the text's number

    class St:  # token_lengths reads the tokenizer and max length only
        max_seq_length = 8

        @staticmethod
        def tokenizer(texts, truncation, max_length):
            return {"input_ids": [[0] * (int(t[1:]) % 5 + 1) for t in texts]}

    for n, buckets, forwards in [
        (3, 2, [3]),
        (4, 2, [2, 2]),
        (7, 2, [4, 3]),
        (2, 2, [2]),
        (5, 3, [5]),
        (6, 1, [6]),
    ]:
        calls.clear()
        texts = [f"w{i}" for i in range(n)]
        out = bucketed(emb, texts, buckets, St())
        assert calls == forwards, (n, buckets)
        assert out[:, 0].tolist() == list(range(n))  # rows back in input order


def test_default_buckets_on_the_smallest_batches(tmp_path, tiny_model_dir, monkeypatch):
    """The default on the smallest batch (2 pairs: 4 texts) is two forwards of 2; more buckets
    than that batch can fill (3 buckets, 4 texts) fall back to one forward; both train."""
    import langgap.training.loop as loop

    sizes: list[int] = []

    def spy(module, st, texts, prompt, device):
        sizes.append(len(texts))
        return forward(module, st, texts, prompt, device)

    monkeypatch.setattr(loop, "forward", spy)
    for buckets, forwards in ((None, [2, 2, 2, 2]), (3, [4, 4])):
        sizes.clear()
        extra = {} if buckets is None else {"length_buckets": buckets}
        out = str(tmp_path / f"buckets-{buckets}")
        res = train(config(tmp_path, tiny_model_dir, batch_size=2, max_steps=2, out=out, **extra))
        assert sizes == forwards and len(res.losses) == 2 and all(np.isfinite(res.losses))


def test_length_buckets_do_not_change_the_gradcache_path(tmp_path, tiny_model_dir):
    """With --cache-chunk the chunks are the forwards: the default buckets change nothing there
    (same losses and weights, bit for bit, as length_buckets=1, dropout included)."""
    runs = [
        train(config(tmp_path, tiny_model_dir, cache_chunk=3, length_buckets=b, out=str(tmp_path / f"b{b}")))
        for b in (1, 2)
    ]
    assert runs[0].losses == runs[1].losses
    one, two = dict(runs[0].model.named_parameters()), dict(runs[1].model.named_parameters())
    for name in one:
        assert torch.equal(one[name], two[name]), name


def test_the_saved_model_reads_the_base_models_length_not_the_training_length(tmp_path, tiny_model_dir):
    """Texts are cut at --max-length while training; the saved model reads what the base model
    reads, and config.json and the card say both."""
    from sentence_transformers import SentenceTransformer

    base = SentenceTransformer(str(tiny_model_dir), device="cpu").max_seq_length
    assert base > 6
    res = train(config(tmp_path, tiny_model_dir, max_length=6, max_steps=2))
    assert res.model.max_seq_length == 6  # the live model as trained
    saved = SentenceTransformer(str(res.model_dir), device="cpu")
    assert saved.max_seq_length == base and saved.tokenizer.model_max_length == base
    resolved = json.loads((res.out / "config.json").read_text())["resolved"]
    assert (resolved["training_max_length"], resolved["saved_max_length"]) == (6, base)
    card = (res.model_dir / "README.md").read_text(encoding="utf-8")
    assert (
        f"**Maximum Sequence Length:** {base} tokens (the base model's; trained on texts cut at 6 tokens)"
        in card
    )


def test_the_card_lists_iso_codes_in_its_metadata_and_flores_codes_in_its_text():
    from langgap.training.card import model_card
    from langgap.training.config import DataConfig

    card = model_card(
        DataConfig(pairs=("deu_Latn-eng_Latn.tsv",)), {"batch_size": 8}, base="intfloat/multilingual-e5-small",
        languages=["deu_Latn", "eng_Latn", "zho_Hans", "zho_Hant"], dimension=384, max_length=512,
        trained_at=64, steps=2, pairs=10, prompt="query: ", history=[],
    )  # fmt: skip
    meta = card.split("---")[1].split("language:")[1]
    assert meta.split() == ["-", "deu", "-", "eng", "-", "zho"]
    assert "deu_Latn, eng_Latn, zho_Hans, zho_Hant" in card  # the body keeps the codes trained on


def test_the_card_names_a_hub_base_model_in_its_metadata_and_a_local_folder_only_in_its_text(tmp_path):
    from langgap.training.card import model_card
    from langgap.training.config import DataConfig

    def card(base):
        return model_card(
            DataConfig(pairs=("deu-eng.tsv",)), {"batch_size": 8}, base=base, languages=["deu", "eng"],
            dimension=384, max_length=512, trained_at=64, steps=2, pairs=10, prompt="", history=[],
        )  # fmt: skip

    hub = card("intfloat/multilingual-e5-small")
    assert hub.startswith("---\nbase_model: intfloat/multilingual-e5-small\nlibrary_name:")
    assert "- **Base model:** `intfloat/multilingual-e5-small`\n" in hub
    local = card(str(tmp_path))  # an existing folder (the offline copy given by its path, say)
    assert local.startswith("---\nlibrary_name:") and "base_model" not in local.split("---")[1]
    assert f"- **Base model:** `{tmp_path}` (a local folder)\n" in local

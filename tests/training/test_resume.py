"""Interrupt, resume, compare: a resumed run reaches the same weights as an uninterrupted one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from langgap.errors import InputError
from langgap.training.checkpoint import list_checkpoints
from langgap.training.config import TrainConfig
from langgap.training.loop import train


class Interrupt(Exception):
    pass


def write_pairs(path: Path, n: int = 48) -> Path:
    path.write_text("".join(f"w{i} w{i + 1}\tw{i} w{i + 2}\n" for i in range(n)), encoding="utf-8")
    return path


def stop_after(step: int):
    def progress(s: int, total: int, loss: float, pairs_per_s: float) -> None:
        if s == step:
            raise Interrupt(f"stopped after step {s}")

    return progress


@pytest.mark.parametrize("objective", ["infonce", "soft"])
def test_resume_reaches_the_same_weights(tmp_path, tiny_model_dir, objective):
    pairs = write_pairs(tmp_path / "xx-yy.tsv")
    sts = tmp_path / "en-en.tsv"
    sts.write_text("".join(f"{i % 4}\tw{i} w{i + 1}\tw{i} w{i + 5}\n" for i in range(100, 110)))

    def cfg(out: str) -> TrainConfig:
        return TrainConfig.from_flat(
            model=str(tiny_model_dir),
            pairs=(str(pairs),),
            objective=objective,
            cross_lingual_fraction=0.5,  # half SimCSE pairs: dropout matters
            batch_size=8,
            grad_accum=2,
            max_steps=8,
            lr=1e-3,
            save_every=2,
            eval_every=3,
            eval_sts=(str(sts),),
            english_guard=str(sts),
            seed=3,
            out=str(tmp_path / out),
        )

    full = train(cfg("full"))
    with pytest.raises(Interrupt):
        train(cfg("cut"), progress=stop_after(5))  # checkpoints at 2 and 4; step 5 is lost
    assert [s for s, _ in list_checkpoints(tmp_path / "cut")] == [2, 4]
    resumed = train(cfg("cut"), resume=True)
    assert len(resumed.losses) == 4  # steps 5..8
    assert resumed.losses == full.losses[4:]
    a, b = dict(full.model.named_parameters()), dict(resumed.model.named_parameters())
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name
    assert [s for s, _ in list_checkpoints(tmp_path / "cut")] == [6, 8]  # the last 2 kept
    log = [json.loads(x)["step"] for x in (tmp_path / "cut" / "train_log.jsonl").read_text().splitlines()]
    assert log == list(range(1, 9))
    hist = [json.loads(x) for x in (tmp_path / "cut" / "eval_history.jsonl").read_text().splitlines()]
    assert [r["step"] for r in hist] == [0, 3, 6, 8]
    full_hist = full.eval_history
    assert [r["tasks"] for r in hist] == [r["tasks"] for r in full_hist]
    assert {r["english_guard"]["baseline"] for r in hist} == {full_hist[0]["english_guard"]["value"]}


def test_resume_without_checkpoint_and_reused_out(tmp_path, tiny_model_dir):
    cfg = TrainConfig.from_flat(
        model=str(tiny_model_dir),
        pairs=(str(write_pairs(tmp_path / "xx-yy.tsv")),),
        batch_size=8,
        max_steps=2,
        save_every=0,
        out=str(tmp_path / "run"),
    )
    with pytest.raises(InputError, match=r"--resume: no checkpoint in .*run/checkpoints"):
        train(cfg, resume=True)
    train(cfg)
    with pytest.raises(InputError, match=r"holds a finished training run \(model/\): choose another --out"):
        train(cfg)
    with pytest.raises(InputError, match="--resume: no checkpoint"):
        train(cfg, resume=True)  # save_every=0 wrote none


def test_a_run_stopped_before_its_first_checkpoint_starts_again(tmp_path, tiny_model_dir):
    """Ctrl-C before the first checkpoint leaves nothing to resume: the same command starts the
    run again (its old log replaced); Ctrl-C while that checkpoint is written leaves no step-N.tmp."""
    import json

    from langgap.training import checkpoint

    cfg = TrainConfig.from_flat(
        model=str(tiny_model_dir), pairs=(str(write_pairs(tmp_path / "xx-yy.tsv")),), batch_size=8,
        max_steps=4, save_every=3, out=str(tmp_path / "run"),
    )  # fmt: skip

    def stop_at_2(step, *_):
        if step == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(cfg, progress=stop_at_2)
    assert not checkpoint.list_checkpoints(cfg.output.out)
    real = checkpoint.atomic.write_text

    def interrupted_sidecar(path, text):
        if path.name == checkpoint.SIDECAR:
            raise KeyboardInterrupt
        return real(path, text)

    checkpoint.atomic.write_text = interrupted_sidecar
    try:
        with pytest.raises(KeyboardInterrupt):
            train(cfg)  # the same command: starts again, stopped while saving step 3
    finally:
        checkpoint.atomic.write_text = real
    assert not list((tmp_path / "run" / "checkpoints").glob("*.tmp"))
    result = train(cfg)  # and once more: runs to the end
    assert result.step == 4 and (tmp_path / "run" / "model").is_dir()
    log = [json.loads(x) for x in (tmp_path / "run" / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2, 3, 4]  # one run's log, not three


def _freeze_cfg(tmp_path, model, out: str, **kw) -> TrainConfig:
    settings = {"freeze_embeddings": True, **kw}
    return TrainConfig.from_flat(
        model=str(model),
        pairs=(str(write_pairs(tmp_path / "xx-yy.tsv")),),
        batch_size=8,
        max_steps=6,
        lr=1e-3,
        save_every=2,
        seed=1,
        out=str(tmp_path / out),
        **settings,
    )


@pytest.mark.parametrize(
    "freeze, left_out, kept",
    [
        # --freeze-embeddings: only the word-embedding matrix is left out
        ({"freeze_embeddings": True}, ("word_embeddings",), ("encoder.layer.0.", "position_embeddings")),
        # --freeze-layers 1: every input embedding and layer 0 are left out, layer 1 is saved
        (
            {"freeze_embeddings": False, "freeze_layers": 1},
            ("embeddings.", "encoder.layer.0."),
            ("encoder.layer.1.",),
        ),
    ],
)
def test_frozen_weights_stay_out_of_checkpoints_and_resume_is_exact(
    tmp_path, tiny_model_dir, freeze, left_out, kept
):
    from safetensors import safe_open

    full = train(_freeze_cfg(tmp_path, tiny_model_dir, "full", **freeze))
    with pytest.raises(Interrupt):
        train(_freeze_cfg(tmp_path, tiny_model_dir, "cut", **freeze), progress=stop_after(3))
    ckpt = list_checkpoints(tmp_path / "cut")[-1][1]
    with safe_open(str(ckpt / "model.safetensors"), framework="pt") as f:
        saved = set(f.keys())
    assert saved and not any(part in k for k in saved for part in left_out)  # frozen weights not saved
    assert all(any(part in k for k in saved) for part in kept)
    resumed = train(_freeze_cfg(tmp_path, tiny_model_dir, "cut", **freeze), resume=True)
    a, b = dict(full.model.named_parameters()), dict(resumed.model.named_parameters())
    for name in a:
        assert torch.equal(a[name], b[name]), name
    # the log's elapsed time goes on from where the interrupted run stopped
    log = [json.loads(x) for x in (tmp_path / "cut" / "train_log.jsonl").read_text().splitlines()]
    elapsed = [r["elapsed"] for r in log]
    assert [r["step"] for r in log] == list(range(1, 7)) and elapsed == sorted(elapsed)


def test_resume_refuses_other_frozen_weights(tmp_path, tiny_model_dir):
    import shutil

    from sentence_transformers import SentenceTransformer

    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    with pytest.raises(Interrupt):
        train(_freeze_cfg(tmp_path, model, "cut"), progress=stop_after(3))
    st = SentenceTransformer(str(model))
    with torch.no_grad():
        st[0].auto_model.get_input_embeddings().weight[5] += 1.0  # another starting model
    st.save(str(model))
    with pytest.raises(InputError, match="frozen weights of the model being resumed differ"):
        train(_freeze_cfg(tmp_path, model, "cut"), resume=True)


def test_a_cut_short_last_log_line_is_dropped_on_resume(tmp_path, tiny_model_dir):
    with pytest.raises(Interrupt):
        train(_freeze_cfg(tmp_path, tiny_model_dir, "cut"), progress=stop_after(3))
    log = tmp_path / "cut" / "train_log.jsonl"
    log.write_text(log.read_text() + '{"step": 4, "lo')  # a crash in the middle of a write
    resumed = train(_freeze_cfg(tmp_path, tiny_model_dir, "cut"), resume=True)
    assert resumed.step == 6
    assert [json.loads(x)["step"] for x in log.read_text().splitlines()] == list(range(1, 7))


def test_resume_refuses_another_freeze_layers(tmp_path, tiny_model_dir):
    """Frozen weights are not in the checkpoint: resuming with another --freeze-layers would mix
    weights of two runs, so it is refused, naming the option."""
    with pytest.raises(Interrupt):
        train(_freeze_cfg(tmp_path, tiny_model_dir, "cut", freeze_layers=1), progress=stop_after(3))
    with pytest.raises(InputError, match="frozen weights .* differ .*--freeze-layers changed"):
        train(_freeze_cfg(tmp_path, tiny_model_dir, "cut"), resume=True)

"""WiSE-FT weight interpolation: the pure function against hand arithmetic, ``langgap merge`` end
to end on the tiny model, and its refusals (nothing written)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from langgap.errors import InputError
from langgap.training.merge import check_alpha, interpolate


def _pair():
    g = torch.Generator().manual_seed(0)
    base = {"w": torch.randn(3, 4, generator=g), "ids": torch.arange(5)}
    tuned = {"w": torch.randn(3, 4, generator=g), "ids": torch.arange(5)}
    return base, tuned


@pytest.mark.parametrize("alpha", [0.0, 0.25, 0.5, 1.0])
def test_each_weight_is_the_weighted_mean(alpha):
    base, tuned = _pair()
    out = interpolate(base, tuned, alpha)
    expected = (1 - alpha) * base["w"] + alpha * tuned["w"]
    torch.testing.assert_close(out["w"], expected, rtol=0, atol=1e-6)
    assert torch.equal(out["ids"], tuned["ids"])
    if alpha in (0.0, 1.0):  # the ends are the models themselves, bit for bit
        assert torch.equal(out["w"], base["w"] if alpha == 0 else tuned["w"])
    out["w"] += 1  # a copy: the inputs are untouched
    assert not torch.equal(out["w"], tuned["w"]) and not torch.equal(out["w"], base["w"])


def test_other_architectures_and_integer_buffers_are_refused():
    base, tuned = _pair()
    with pytest.raises(InputError, match=r"different parameters \(1 not in both, e.g. extra\)"):
        interpolate(base, {**tuned, "extra": torch.zeros(1)}, 0.5)
    with pytest.raises(InputError, match=r"differ in w: shape \(3, 4\) vs \(4, 3\)"):
        interpolate(base, {**tuned, "w": torch.zeros(4, 3)}, 0.5)
    with pytest.raises(InputError, match="non-float tensor ids"):
        interpolate(base, {**tuned, "ids": torch.arange(5) + 1}, 0.5)


@pytest.mark.parametrize("alpha", [-0.1, 1.5, math.nan])
def test_alpha_outside_the_unit_interval_is_refused(alpha):
    with pytest.raises(InputError, match=r"--alpha must be in \[0, 1\]"):
        check_alpha(alpha)
    assert check_alpha(0) == 0.0 and check_alpha(1) == 1.0


@pytest.fixture(scope="module")
def tuned_dir(tiny_model_dir, tmp_path_factory):
    """The tiny model with every weight moved: a stand-in for a fine-tuned copy."""
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(tiny_model_dir), device="cpu")
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in st.parameters():
            p.add_(0.1 * torch.randn(p.shape, generator=g))
    folder = tmp_path_factory.mktemp("tuned")
    st.save(str(folder))
    return folder


def test_merge_writes_the_interpolated_model_with_its_card(cli, capsys, tiny_model_dir, tuned_dir, tmp_path):
    from sentence_transformers import SentenceTransformer

    out = tmp_path / "merged"
    code, _, err = cli(["merge", tiny_model_dir, tuned_dir, "--alpha", "0.3", "--out", out])
    assert code == 0, err
    assert f"wrote {out}: (1 - 0.3) * {tiny_model_dir} + 0.3 * {tuned_dir}" in err.replace("\n", " ")
    base, tuned, merged = (
        SentenceTransformer(str(p), device="cpu") for p in (tiny_model_dir, tuned_dir, out)
    )
    b, t, m = base.state_dict(), tuned.state_dict(), merged.state_dict()
    assert set(m) == set(t)
    for name in t:
        if t[name].is_floating_point():
            torch.testing.assert_close(m[name], 0.7 * b[name] + 0.3 * t[name], rtol=0, atol=1e-6)
    assert merged.prompts == tuned.prompts and merged.default_prompt_name == tuned.default_prompt_name
    assert merged.max_seq_length == tuned.max_seq_length
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "**α = 0.3**" in card and f"- **Tuned model:** `{tuned_dir}`" in card
    assert "base_model:" not in card.split("---")[1]  # a local base folder is not a Hub id
    # alpha 1: the tuned model's embeddings exactly
    capsys.readouterr()  # (this test's own loading bars)
    code, _, err = cli(["merge", tiny_model_dir, tuned_dir, "--alpha", "1", "--out", out, "-q"])
    assert (code, err) == (0, "")
    texts = ["w1 w2 w3", "w4 w5"]
    again = SentenceTransformer(str(out), device="cpu")
    np.testing.assert_array_equal(again.encode(texts), tuned.encode(texts))


@pytest.mark.parametrize("case", ["alpha", "shape", "tokenizer", "out_is_input", "missing"])
def test_refusals_one_line_exit_2_nothing_written(cli, tiny_model_dir, tuned_dir, tmp_path, case):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers import models as st_models

    other = tmp_path / "other"
    if case == "shape":  # another head: parameters the base does not have
        st = SentenceTransformer(str(tiny_model_dir), device="cpu")
        SentenceTransformer(modules=[*st, st_models.Dense(32, 16)]).save(str(other))
    if case == "tokenizer":  # the same weights, one piece renamed
        st = SentenceTransformer(str(tuned_dir), device="cpu")
        st.save(str(other))
        text = (other / "tokenizer.json").read_text(encoding="utf-8").replace('"w199"', '"v199"')
        (other / "tokenizer.json").write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    args, message = {
        "alpha": ([tiny_model_dir, tuned_dir, "--alpha", "1.5"], r"--alpha must be in [0, 1]"),
        "shape": ([tiny_model_dir, other], "the models have different parameters"),
        "tokenizer": ([tiny_model_dir, other], "the models have different tokenizers (512 vs 512 pieces"),
        "out_is_input": ([tiny_model_dir, tuned_dir, "--out", tuned_dir], "is one of the models merged"),
        "missing": ([tiny_model_dir, tmp_path / "nope"], "no such file or directory"),
    }[case]
    code, _, err = cli(["merge", *args, *([] if "--out" in args else ["--out", out])])
    last = err.strip().splitlines()[-1]  # (the set-up's own loading bars come before it)
    assert code == 2 and last.startswith("error: ") and message in last and err.count("error") == 1, err
    assert not out.exists()


def test_train_interpolate_saves_the_blend_of_start_and_trained_weights(cli, tiny_model_dir, tmp_path):
    """--interpolate A: model/ holds (1 - A) * start + A * the weights an A = 1 run ends with
    (training is deterministic), the blend is evaluated once more (a record marked 'interpolated',
    the card's last column), and A = 0 gives back the starting model."""
    from sentence_transformers import SentenceTransformer

    from conftest import write_bitext

    pairs = write_bitext(tmp_path / "xx-yy.tsv", "xx", "yy", 40)
    held = write_bitext(tmp_path / "eng-deu.tsv", "eng", "deu", 16)
    args = ["train", "--model", tiny_model_dir, "--pairs", pairs, "--batch-size", 8, "--lr", "1e-3",
            "--max-steps", 3, "--save-every", 0, "--eval-bitext", held, "-q"]  # fmt: skip
    for a in ("1", "0.4", "0"):
        code, _, err = cli([*args, "--interpolate", a, "--out", tmp_path / a])
        assert code == 0, err
    start, trained, blend, none = (
        SentenceTransformer(str(p), device="cpu").state_dict()
        for p in (
            tiny_model_dir,
            tmp_path / "1" / "model",
            tmp_path / "0.4" / "model",
            tmp_path / "0" / "model",
        )
    )
    moved = 0
    for name, t in trained.items():
        if t.is_floating_point():
            torch.testing.assert_close(blend[name], 0.6 * start[name] + 0.4 * t, rtol=0, atol=1e-6)
            assert torch.equal(none[name], start[name])
            moved += not torch.equal(t, start[name])
    assert moved > 10  # training moved the weights: the blend is not the start
    history = [json.loads(x) for x in (tmp_path / "0.4" / "eval_history.jsonl").read_text().splitlines()]
    assert [(r["step"], r.get("interpolated")) for r in history] == [(0, None), (3, None), (3, 0.4)]
    card = (tmp_path / "0.4" / "model" / "README.md").read_text(encoding="utf-8")
    final = history[-1]["tasks"]["bitext:eng-deu"]
    assert f"{final[final['main_score']]:.4f} |" in card and "- `interpolate`: `0.4`" in card
    code, _, err = cli([*args, "--interpolate", "1.5", "--out", tmp_path / "bad"])
    assert code == 2 and "--interpolate must be in [0, 1]" in err and not (tmp_path / "bad").exists()

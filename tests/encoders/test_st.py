"""The sentence-transformers adapter, on a tiny model built in code."""

from __future__ import annotations

import numpy as np
import pytest

from langgap.encoders import load_encoder
from langgap.encoders.st import SentenceTransformerEncoder, resolve_model
from langgap.errors import InputError

TEXTS = ["w1 w2 w3", "w4 w5", "w1 w2 w3", "w7"]


def test_prompt_is_a_literal_prefix(tiny_model_dir):
    plain = SentenceTransformerEncoder(str(tiny_model_dir), prompt="")  # no prompt, not the default
    prompted = SentenceTransformerEncoder(str(tiny_model_dir), prompt="query: ")
    assert np.allclose(prompted.encode(TEXTS), plain.encode(["query: " + t for t in TEXTS]), atol=1e-5)
    assert not np.allclose(prompted.encode(TEXTS), plain.encode(TEXTS), atol=1e-3)


def test_prompt_name_uses_configured_prompt(tiny_model_dir):
    named = SentenceTransformerEncoder(str(tiny_model_dir), prompt_name="passage")
    assert named.prompt == "passage: "
    with pytest.raises(InputError, match=r"no prompt named 'quary'; configured: \[.*'passage', 'query'\]"):
        SentenceTransformerEncoder(str(tiny_model_dir), prompt_name="quary")
    with pytest.raises(InputError, match="not both"):
        SentenceTransformerEncoder(str(tiny_model_dir), prompt="x", prompt_name="query")


def test_a_prompt_that_differs_from_a_configured_one_only_in_whitespace_is_flagged(tiny_model_dir, caplog):
    with caplog.at_level("WARNING", logger="langgap.encoders.st"):
        enc = SentenceTransformerEncoder(str(tiny_model_dir), prompt="query:")  # `--prompt query:` unquoted
    assert enc.prompt == "query:" and len(caplog.records) == 1
    assert caplog.records[0].getMessage() == (
        "--prompt 'query:' differs from the model's 'query' prompt 'query: ' only in whitespace, so texts are "
        "embedded as 'query:text'; give --prompt 'query: ' (quoted) or --prompt-name query"
    )
    caplog.clear()
    with caplog.at_level("WARNING", logger="langgap.encoders.st"):
        for prompt in ("query: ", "passage: ", "x:", ""):
            SentenceTransformerEncoder(str(tiny_model_dir), prompt=prompt)
    assert caplog.records == []


def test_default_prompt_and_describe(tiny_model_dir):
    enc = load_encoder(str(tiny_model_dir), batch_size=2, max_length=16)
    assert enc.prompt_adopted and (enc.prompt, enc.prompt_name) == ("query: ", "query")
    for explicit in (
        load_encoder(str(tiny_model_dir), prompt=""),  # an explicit empty prompt stays empty
        load_encoder(str(tiny_model_dir), prompt="x: "),
        load_encoder(str(tiny_model_dir), default_prompt=None),
    ):
        assert not explicit.prompt_adopted and explicit.prompt in ("", "x: ")
    d = enc.describe()
    assert (
        d["pooling"] == "mean" and d["dimension"] == 32 and d["prompt"] == "query: " and d["max_length"] == 16
    )
    assert enc.encode(TEXTS).shape == (4, 32)
    key = enc.cache_key()
    assert "prompt='query: '" in key and "max_len=16" in key


def test_unreadable_model_path(tmp_path):
    with pytest.raises(InputError, match="no such file or directory"):
        SentenceTransformerEncoder(str(tmp_path / "nope" / "model"))
    (tmp_path / "broken").mkdir()
    with pytest.raises(InputError, match="cannot load model"):
        SentenceTransformerEncoder(str(tmp_path / "broken"))


def test_offline_copy_resolution(tmp_path, monkeypatch):
    monkeypatch.setenv("LANGGAP_MODELS_DIR", str(tmp_path))
    # offline (HF_HUB_OFFLINE=1 in every test), not local, not cached: refused at once, not retried
    with pytest.raises(InputError, match="HF_HUB_OFFLINE is set; give a local path"):
        resolve_model("intfloat/multilingual-e5-small")
    (tmp_path / "multilingual-e5-small").mkdir()
    (tmp_path / "multilingual-e5-small" / "config.json").write_text("{}")
    path, note = resolve_model("intfloat/multilingual-e5-small")
    assert path == str(tmp_path / "multilingual-e5-small") and "offline copy" in note


def test_plain_hf_model_gets_mean_pooling(tiny_hf_dir, tiny_model_dir):
    plain = SentenceTransformerEncoder(str(tiny_hf_dir))
    st = SentenceTransformerEncoder(str(tiny_model_dir), prompt="")
    assert plain.pooling == "mean" and plain.describe()["prompt"] == ""
    assert np.allclose(plain.encode(TEXTS), st.encode(TEXTS), atol=1e-5)


def test_token_sorted_batching_matches_plain_encode(tiny_model_dir):
    texts = ["w1", "w1 w2 w3 w4 w5 w6", "w9 w8", "w3 w3 w3", "w7 w6 w5 w4", "w2"]
    enc = SentenceTransformerEncoder(str(tiny_model_dir), prompt="query: ", batch_size=2)
    assert enc.token_lengths(texts) == [5, 10, 6, 7, 8, 5]  # [CLS] query : ... [SEP]
    direct = enc.model.encode(texts, prompt="query: ", batch_size=64, convert_to_numpy=True)
    assert np.allclose(enc.encode(texts), direct, atol=1e-5)


def test_hub_id_needs_a_reachable_hub(monkeypatch):
    import langgap.encoders.resolve as st

    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(st, "hub_reachable", lambda timeout=3.0: False)
    with pytest.raises(InputError, match="the Hugging Face Hub cannot be reached"):
        resolve_model("org/not-here")
    monkeypatch.setattr(st, "hub_reachable", lambda timeout=3.0: True)
    assert resolve_model("org/not-here") == ("org/not-here", None)  # the download is tried


def test_a_typo_in_a_local_path_is_not_taken_for_a_hub_id(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs" / "aligned").mkdir(parents=True)
    with pytest.raises(
        InputError, match=r"runs/alignedx: no such file or directory \(did you mean 'runs/aligned'\?\)"
    ):
        resolve_model("runs/alignedx")


def test_a_training_run_folder_points_to_its_model(tmp_path, tiny_model_dir):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(tiny_model_dir, run / "model")
    (run / "config.json").write_text('{"format": "langgap.train-config/1"}')
    with pytest.raises(InputError, match=f"training run folder; its model is {run / 'model'}"):
        SentenceTransformerEncoder(str(run))


@pytest.mark.parametrize(
    "device,message",
    [("cuda", "sees 0 CUDA device"), ("tpu9", "not a device name"), ("xla", "runs on cpu, cuda or mps")],
)
def test_unusable_device_refused_before_loading(tiny_model_dir, device, message, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr("langgap.encoders.st.load_model", lambda *a, **k: pytest.fail("model loaded"))
    with pytest.raises(InputError, match=message):
        SentenceTransformerEncoder(str(tiny_model_dir), device=device)


def test_bad_precision(tiny_model_dir):
    with pytest.raises(InputError, match="--precision 'fp8': expected one of auto, fp32, fp16, bf16"):
        SentenceTransformerEncoder(str(tiny_model_dir), precision="fp8")
    with pytest.raises(InputError, match="--precision applies to a local model"):
        load_encoder("openai:http://127.0.0.1:1/v1#m", precision="bf16")


def test_tokenizer_errors_name_the_tokenizer_and_the_missing_files(tmp_path):
    from langgap.encoders.hf import load_tokenizer

    with pytest.raises(InputError, match=r"^tokenizer path \./nosuch/tok: no such file or directory"):
        load_tokenizer("./nosuch/tok")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(InputError, match=r"the folder holds no tokenizer files \(tokenizer.json, "):
        load_tokenizer(str(tmp_path))

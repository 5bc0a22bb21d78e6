"""``measure --against TEACHER``: the student's sentences against the teacher's English ones,
checked against a naive computation; a space the teacher does not share scores near chance."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import spearmanr

from conftest import ToyEncoder, write_bitext
from langgap.against import check_against
from langgap.errors import InputError
from langgap.measuring import measure
from langgap.tasks import bitext_task, sts_task


class Rotated:
    """A toy encoder in another space: the same vectors, rotated."""

    def __init__(self, inner: ToyEncoder, seed: int = 0) -> None:
        self.inner = inner
        self.q = np.linalg.qr(np.random.default_rng(seed).standard_normal((inner.dim, inner.dim)))[0]

    def encode(self, texts):
        return (self.inner.encode(texts) @ self.q).astype(np.float32)

    def cache_key(self) -> str:
        return "rotated|" + self.inner.cache_key()


def _unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _sts(path, n=40):
    rng = np.random.default_rng(0)
    rows = [f"{rng.uniform(0, 5):.2f}\teng:{i}\teng:{(i * 7) % n}\n" for i in range(n)]
    path.write_text("".join(rows), encoding="utf-8")
    return path


def test_retrieval_and_sts_across_the_two_models_match_a_naive_computation(tmp_path):
    student, teacher = ToyEncoder(noise=0.6), ToyEncoder(noise=0.4)  # one space, different noise
    bitext, sts = write_bitext(tmp_path / "deu-eng.tsv", "deu", "eng", 60), _sts(tmp_path / "en-en.tsv")
    res = measure(student, [bitext_task(bitext), sts_task(sts)], against=teacher)
    by = {t.name.split(":")[-1]: t for t in res.tasks}
    src = [f"deu:{i}" for i in range(60)]
    eng = [f"eng:{i}" for i in range(60)]
    cos = _unit(student.encode(src)) @ _unit(teacher.encode(eng)).T
    want = float(np.mean(cos.argmax(axis=1) == np.arange(60)))
    assert by["deu-eng"].metrics["accuracy_src2tgt"] == pytest.approx(want)
    assert by["deu-eng"].metrics["accuracy_tgt2src"] == pytest.approx(
        float(np.mean(cos.argmax(axis=0) == np.arange(60)))
    )
    rows = [line.split("\t") for line in sts.read_text(encoding="utf-8").splitlines()]
    a = _unit(student.encode([r[1] for r in rows]))  # the student's first sentence ...
    b = _unit(teacher.encode([r[2] for r in rows]))  # ... against the teacher's second
    rho = spearmanr([float(r[0]) for r in rows], (a * b).sum(axis=1)).statistic
    assert by["en-en"].metrics["spearman"] == pytest.approx(rho, abs=1e-9)
    assert by["en-en"].notes["against"] == "the model's first sentence against the teacher's second"
    assert by["deu-eng"].notes["against"] == "the teacher embeds eng; the model the rest"
    assert res.config["against"]["languages"] == ["en", "eng", "eng_Latn"]


def test_a_teacher_in_another_space_is_found_incompatible(tmp_path):
    student = ToyEncoder(noise=0.3)
    bitext = bitext_task(write_bitext(tmp_path / "deu-eng.tsv", "deu", "eng", 60))
    same = measure(student, [bitext], against=ToyEncoder(noise=0.3)).tasks[0].metrics["accuracy_src2tgt"]
    other = (
        measure(student, [bitext], against=Rotated(ToyEncoder(noise=0.3)))
        .tasks[0]
        .metrics["accuracy_src2tgt"]
    )
    own = measure(student, [bitext]).tasks[0].metrics["accuracy_src2tgt"]
    assert same == own == 1.0 and other < 0.2  # the student alone says nothing about the index


def test_dimensions_must_match(tmp_path):
    bitext = bitext_task(write_bitext(tmp_path / "deu-eng.tsv", "deu", "eng", 20))
    with pytest.raises(InputError, match="the teacher's embeddings have 16 dimensions, the model's 32"):
        measure(ToyEncoder(dim=32), [bitext], against=ToyEncoder(dim=16))

    class Sized:
        def __init__(self, dimension):
            self.dimension = dimension

    check_against(Sized(32), Sized(32), "t")
    with pytest.raises(InputError, match="--against t: its embeddings have 16 dimensions, the model's 32"):
        check_against(Sized(32), Sized(16), "t")


def test_cli_against_and_its_bad_input(cli, tiny_model_dir, tmp_path):
    bitext = tmp_path / "xx-eng.tsv"
    bitext.write_text("".join(f"w{i} w{i + 1}\tw{i} w{i + 2}\n" for i in range(30)), encoding="utf-8")
    args = ["measure", "--model", tiny_model_dir, "--bitext", bitext, "--no-cache"]
    code, out, err = cli([*args, "--against", tiny_model_dir, "--out", tmp_path / "run"])
    assert code == 0, err
    saved = json.loads((tmp_path / "run" / "results.json").read_text(encoding="utf-8"))
    assert saved["config"]["against"]["languages"] == ["en", "eng", "eng_Latn"]
    own = json.loads(json.dumps(saved["tasks"][0]["metrics"]))
    code, out, err = cli([*args, "--out", tmp_path / "plain"])
    plain = json.loads((tmp_path / "plain" / "results.json").read_text(encoding="utf-8"))["tasks"][0][
        "metrics"
    ]
    assert own["accuracy_src2tgt"] == pytest.approx(plain["accuracy_src2tgt"])  # a model against itself
    code, out, err = cli([*args, "--against", tiny_model_dir, "--adapt", "center", "--out", tmp_path / "bad"])
    assert code == 2 and "give --adapt or --against, not both" in err and not (tmp_path / "bad").exists()

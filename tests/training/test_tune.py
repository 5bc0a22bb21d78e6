"""``langgap tune``: search spaces and their refusals, the score against hand arithmetic, the
Optuna study (pruning, failures, a Ctrl-C'd trial run again), and whole searches on the tiny
model through the library and the command (resumed, best.toml read back by ``--recipe``)."""

from __future__ import annotations

import json
import statistics

import pytest
import tomllib

from langgap.errors import InputError
from langgap.training.config import TrainConfig
from langgap.training.loop import TrainingDiverged
from langgap.training.recipes import recipe_path
from langgap.training.space import Choice, Range, read_space
from langgap.training.study import Study, TrialRecord
from langgap.training.tune import recipe_toml, score, task_score, tune


def _space(tmp_path, body: str, train: str = 'eval_bitext = ["v.tsv"]\n'):
    path = tmp_path / "space.toml"
    path.write_text(f"[train]\n{train}\n[space]\n{body}\n")
    return path


def test_a_space_reads_ranges_and_choices(tmp_path):
    path = _space(
        tmp_path,
        "temperature = { low = 0.01, high = 0.1, log = true }\nmax-steps = { low = 100, high = 300, step = 50 }\n"
        'labels = ["priority", "average"]\npairs = [[], ["a-b.tsv", "c-d.tsv"]]\nlr = { low = 1, high = 2 }\n',
    )
    space = read_space(path)
    assert space.fixed == {"eval_bitext": ("v.tsv",)} and space.source == str(path)
    assert space.params == {
        "temperature": Range(0.01, 0.1, log=True),
        "max_steps": Range(100, 300, step=50),
        "labels": Choice(("priority", "average")),
        "pairs": Choice(([], ["a-b.tsv", "c-d.tsv"])),
        "lr": Range(1, 2),
    }
    assert space.params["max_steps"].integer and not space.params["temperature"].integer
    assert space.params["lr"].integer  # both bounds ints: an int range (lr then takes 1 or 2)
    assert space.params["pairs"].labels == ["[]", '["a-b.tsv", "c-d.tsv"]']
    assert space.params["pairs"].value('["a-b.tsv", "c-d.tsv"]') == ["a-b.tsv", "c-d.tsv"]
    assert space.trial_settings({"lr": 2.0}) == {"eval_bitext": ("v.tsv",), "lr": 2.0}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("temprature = [0.05]", r"\[space\] unknown setting 'temprature' \(did you mean 'temperature'\?\)"),
        (
            "lr = { low = 1e-4, high = 1e-5 }",
            r"\[space\] lr: an empty range \(low = 0.0001 is not below high = 1e-05\)",
        ),
        ("lr = { low = 1e-4, high = 1e-4 }", r"an empty range"),
        ("labels = []", r"\[space\] labels = \[\]: an empty choice"),
        ("lr = { lo = 1e-5, high = 1e-4 }", r"\[space\] lr: unknown key 'lo' \(did you mean 'low'\?\)"),
        ("lr = { high = 1e-4 }", r"a range needs low and high"),
        ("lr = 0.1", r"\[space\] lr = 0.1: expected a range"),
        ('lr = { low = "a", high = 1 }', r"low = 'a' is not a number"),
        ("lr = { low = 0, high = 1, log = true }", r"a log range needs low > 0"),
        ("lr = { low = 0.1, high = 1, log = true, step = 0.1 }", r"either log or stepped"),
        ("max_steps = { low = 1, high = 9, step = 0 }", r"step must be > 0"),
        ('labels = ["priority", "priority"]', r"a value is given twice"),
        ("labels = [{ a = 1 }]", r"a choice is a string, number, boolean or list of strings"),
        ("out = ['a', 'b']", r"\[space\] out cannot be searched"),
        ('labels = ["priority", "nope"]', r"\[space\] labels = 'nope': unknown --labels 'nope'"),
        ("lr = { low = -1.0, high = 1.0 }", r"\[space\] lr = -1.0: --lr must be > 0"),
        ("eval_bitext = [['a.tsv']]", r"eval_bitext is both fixed in \[train\] and searched in \[space\]"),
    ],
)
def test_bad_spaces_are_refused_naming_the_file(tmp_path, body, message):
    path = _space(tmp_path, body)
    with pytest.raises(InputError, match=message) as e:
        read_space(path)
    assert str(e.value).startswith(str(path))


def test_bad_space_files(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_space(tmp_path / "none.toml")
    (tmp_path / "a.toml").write_text("[train]\nlr = 1e-4\n")
    with pytest.raises(InputError, match=r"no \[space\] table: nothing to search"):
        read_space(tmp_path / "a.toml")
    (tmp_path / "b.toml").write_text("[spaces]\nlr = [1]\n")
    with pytest.raises(InputError, match=r"unknown table 'spaces'"):
        read_space(tmp_path / "b.toml")
    (tmp_path / "c.toml").write_text('[space]\nlr = [1e-5]\n[train]\nobjectiv = "soft"\n')
    with pytest.raises(InputError, match=r"unknown setting 'objectiv' \(did you mean 'objective'\?\)"):
        read_space(tmp_path / "c.toml")


def test_the_score_is_the_mean_task_score_less_the_guards_falls():
    record = {
        "step": 10,
        "tasks": {
            "bitext:a": {"main_score": "accuracy_src2tgt", "accuracy_src2tgt": 0.8, "accuracy_tgt2src": 0.6},
            "multiway:f": {"main_score": "xsim_error", "xsim_error": 0.1},
            "sts:x": {"main_score": "spearman", "spearman": 0.5},
        },
        "language_guards": {"sts:ar": {"drop": 0.05}, "sts:es": {"drop": 0.005}, "sts:ko": {"drop": -0.2}},
        "english_guard": {"drop": 0.03, "threshold": 0.02},
    }
    main = statistics.fmean([0.7, 0.9, 0.5])
    assert task_score(record["tasks"]["bitext:a"]) == pytest.approx(0.7)
    assert task_score(record["tasks"]["multiway:f"]) == pytest.approx(0.9)
    assert score(record, 0.01) == pytest.approx(main - (0.04 + 0.01))  # ar 0.05 - 0.01; English 0.03 - 0.02
    assert score(record, 0.01, guard_weight=2.0) == pytest.approx(main - 2 * 0.05)
    assert score({**record, "language_guards": {}, "english_guard": None}, 0.01) == pytest.approx(main)
    with pytest.raises(ValueError, match="step 3 has no validation task"):
        score({"step": 3}, 0.01)


def test_best_toml_is_a_recipe_that_reads_back(tmp_path):
    space = read_space(
        _space(tmp_path, 'pairs = [["a-b.tsv"]]\nlr = { low = 1e-5, high = 1e-4 }\nlabels = ["average"]',
               'eval_bitext = ["v.tsv"]\nmodel = "m"\nbatch_size = 16\nsave_every = 7\n')
    )  # fmt: skip
    best = TrialRecord(
        3, "complete", 0.8123, {"pairs": ["a-b.tsv"], "lr": 3.5e-05, "labels": "average"}, {}, 9.0, ""
    )
    start = {"objective": "soft", "max_steps": 300, "save_every": 100, "interpolate": 0.8}
    text = recipe_toml(space, best, "s", 5, start)
    path = tmp_path / "best.toml"
    path.write_text(text)
    table = tomllib.loads(text)
    assert table["description"].startswith(
        "Found by langgap tune: study s, trial 3 of 5, validation score 0.8123"
    )
    assert table["train"] == {
        "objective": "soft",
        "max_steps": 300,
        "interpolate": 0.8,
        "batch_size": 16,
        "pairs": ["a-b.tsv"],
        "lr": 3.5e-05,
        "labels": "average",
    }  # fmt: skip  (no model, eval or output settings but interpolate)
    cfg = TrainConfig.from_sources(None, {}, recipe_path(str(path)))
    assert cfg.optim.lr == 3.5e-05 and cfg.data.pairs == ("a-b.tsv",) and cfg.objective.labels == "average"


def _study(tmp_path, prune=True):
    space = read_space(_space(tmp_path, "lr = { low = 1e-5, high = 1e-4, log = true }"))
    return Study(space, f"sqlite:///{tmp_path / 'study.db'}", "s", seed=0, prune=prune)


def test_the_median_pruner_stops_a_trial_below_the_others(tmp_path):
    import logging

    study = _study(tmp_path)
    optuna_log = logging.getLogger("optuna")  # its lines go through logging, errors only
    assert (
        optuna_log.getEffectiveLevel() == logging.ERROR and not optuna_log.handlers and optuna_log.propagate
    )
    for value in (0.5, 0.6, 0.7, 0.1):

        def objective(number, sampled, report, value=value):
            assert set(sampled) == {"lr"} and 1e-5 <= sampled["lr"] <= 1e-4
            report(value, 5)
            return value

        study.run_one(objective, ())
    states = [(r.state, r.score, r.steps) for r in study.records()]
    assert states[:3] == [
        ("complete", 0.5, {5: 0.5}),
        ("complete", 0.6, {5: 0.6}),
        ("complete", 0.7, {5: 0.7}),
    ]
    assert states[3] == ("pruned", None, {5: 0.1}) and study.finished() == 4
    (tmp_path / "u").mkdir()
    unpruned = _study(tmp_path / "u", prune=False)
    for value in (0.5, 0.6, 0.7, 0.1):
        unpruned.run_one(lambda n, s, report, v=value: report(v, 5) or v, ())
    assert [r.state for r in unpruned.records()] == ["complete"] * 4


def test_failed_and_interrupted_trials(tmp_path):
    study = _study(tmp_path)

    def diverges(number, sampled, report):
        raise TrainingDiverged("step 3: the loss is nan")

    assert study.run_one(diverges, (TrainingDiverged,)) == 0
    assert study.records()[0].state == "failed" and study.records()[0].note == "step 3: the loss is nan"
    assert study.finished() == 1  # a failed training counts against the budget

    def stopped(number, sampled, report):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        study.run_one(stopped, ())
    lr = study.records()[1].params["lr"]
    assert study.records()[1].note == "interrupted" and study.finished() == 1  # not counted
    again = _study(tmp_path)  # the study resumed
    assert again.requeue_interrupted() == [1] and again.requeue_interrupted() == []
    seen = []
    assert again.run_one(lambda n, s, report: seen.append(s["lr"]) or 0.5, ()) == 2
    assert seen == [lr] and again.finished() == 2  # the interrupted settings ran again


def _tiny_data(tmp_path):
    pairs = tmp_path / "xx-yy.tsv"
    pairs.write_text("".join(f"w{i} w{i + 1}\tw{i} w{i + 2}\n" for i in range(40)))
    val = tmp_path / "val-xx-yy.tsv"
    val.write_text("".join(f"w{i} w{i + 3}\tw{i} w{i + 4}\n" for i in range(60, 76)))
    return pairs, val


def test_a_search_on_the_tiny_model_resumes_and_keeps_the_best(tmp_path, tiny_model_dir, monkeypatch):
    pairs, val = _tiny_data(tmp_path)
    train = (
        f'model = "{tiny_model_dir}"\npairs = ["{pairs}"]\neval_bitext = ["xx,yy={val}"]\n'
        "batch_size = 8\neval_every = 1\n"
    )
    space = read_space(
        _space(tmp_path, "temperature = { low = 0.02, high = 0.2, log = true }\nmax_steps = [1, 2]", train)
    )
    started, ended = [], []
    out = tmp_path / "tune"
    result = tune(space, out, 3, on_trial_start=lambda n, s: started.append(n), on_trial_end=ended.append)
    assert result.ran == 3 and started == [0, 1, 2] and [r.number for r in ended] == [0, 1, 2]
    assert all(r.state in ("complete", "pruned") for r in result.trials)
    best = result.best
    assert best is not None and best.score == max(r.score for r in result.trials if r.score is not None)
    history = [
        json.loads(x)
        for x in (out / "trials" / f"trial-{best.number:04d}" / "eval_history.jsonl").read_text().splitlines()
    ]
    assert best.score == pytest.approx(score(history[-1], 0.01))  # the last evaluation's score
    for r in result.trials:  # only the best keeps its model; no trial keeps checkpoints
        folder = out / "trials" / f"trial-{r.number:04d}"
        assert (folder / "model").is_dir() == (r.number == best.number)
        assert (folder / "config.json").is_file() and not (folder / "checkpoints").exists()
    rows = (out / "trials.tsv").read_text().splitlines()
    assert rows[0] == "trial\tstate\tscore\ttemperature\tmax_steps\tseconds\tnote" and len(rows) == 4
    summary = json.loads((out / "tune.json").read_text())
    assert summary["best"]["number"] == best.number and len(summary["trials"]) == 3
    recipe = TrainConfig.from_sources(None, {}, recipe_path(str(out / "best.toml")))
    assert recipe.objective.temperature == best.params["temperature"]
    assert recipe.optim.max_steps == best.params["max_steps"] and recipe.optim.batch_size == 8

    def interrupted(cfg, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:  # Ctrl-C in the fourth trial
        patch.setattr("langgap.training.tune.train", interrupted)
        with pytest.raises(KeyboardInterrupt):
            tune(space, out, 4)
    rows = (out / "trials.tsv").read_text().splitlines()
    assert len(rows) == 5 and rows[-1].split("\t")[1] == "failed" and rows[-1].endswith("\tinterrupted")
    more = tune(space, out, 4)  # resumed: the interrupted trial again, the three kept
    assert more.ran == 1 and [r.number for r in more.trials] == [0, 1, 2, 3, 4]
    assert more.trials[4].params == more.trials[3].params and more.trials[4].state in ("complete", "pruned")
    assert tune(space, out, 4).ran == 0  # the budget is spent


def test_tune_refuses_a_space_without_validation_data_and_bad_budgets(tmp_path):
    space = read_space(_space(tmp_path, "lr = { low = 1e-5, high = 1e-4 }", "batch_size = 8\n"))
    with pytest.raises(InputError, match=r"\[train\] gives no validation data"):
        tune(space, tmp_path / "t", 2)
    with_val = read_space(_space(tmp_path, "lr = { low = 1e-5, high = 1e-4 }"))
    with pytest.raises(InputError, match="--trials must be >= 1, got 0"):
        tune(with_val, tmp_path / "t", 0)
    with pytest.raises(InputError, match="--guard-weight must be >= 0"):
        tune(with_val, tmp_path / "t", 1, guard_weight=-1)
    with pytest.raises(InputError, match="--storage nosuch://x: cannot open the study database"):
        tune(with_val, tmp_path / "t", 1, storage="nosuch://x")
    assert not (tmp_path / "t").exists()  # nothing written

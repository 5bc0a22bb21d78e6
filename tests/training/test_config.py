"""The training config in parts: flat names, TOML sections, checks naming the option, config.json."""

from __future__ import annotations

import dataclasses
import json
import logging

import pytest

from langgap.errors import InputError
from langgap.training.checkpoint import warn_changed
from langgap.training.config import (
    PARTS,
    DataConfig,
    EvalConfig,
    ModelConfig,
    ObjectiveConfig,
    OptimConfig,
    OutputConfig,
    TrainConfig,
)
from langgap.training.mine_config import MineConfig
from langgap.training.recipes import recipe_path

# the keys of config.json's "config" as the one-class TrainConfig wrote them (a run written then
# must still --resume without a "settings changed" warning)
FLAT_KEYS = (
    "model prompt prompt_name max_length freeze_embeddings freeze_layers tokenizer trim_vocab "
    "pairs mono_pairs multiway langs pivot all_pairs holdout_rows sampling_alpha "
    "cross_lingual_fraction objective labels teacher teacher_prompt tcm_weight temperature "
    "teacher_temperature margin priority gather cache_chunk length_buckets epochs max_steps "
    "batch_size grad_accum lr warmup_ratio weight_decay max_grad_norm mixed_precision seed "
    "eval_bitext eval_sts english_guard guard_threshold collapse_threshold report_to eval_every "
    "out save_every recipe"
).split()
ADDED = [
    "interpolate",
    "guard_sts",
    "guard_sts_warn",
    "guard_sts_stop",
    "preserve",
    "recipe_sha256",
    "language_block",
    "mine_from",
    "rounds",
    "mine_k",
    "mine_threshold",
    "mine_calibrate",
    "mine_max_ratio",
    "mine_cap",
    "mine_dev",
    "init",
    "init_from",
    "init_map",
]  # settings added since: an older config.json lacks them (their default)


def test_flat_settings_land_in_their_parts():
    cfg = TrainConfig.from_flat(
        model="m", objective="soft", lr=1, pairs="a.tsv", eval_every=5, out="o", freeze_layers=2
    )
    assert cfg == TrainConfig(
        model=ModelConfig(name="m", freeze_layers=2),
        data=DataConfig(pairs=("a.tsv",)),
        objective=ObjectiveConfig(kind="soft"),
        optim=OptimConfig(lr=1.0),
        eval=EvalConfig(eval_every=5),
        output=OutputConfig(out="o"),
    )
    assert cfg.optim.lr == 1.0 and isinstance(cfg.optim.lr, float)  # an int given for a float
    assert TrainConfig.from_flat(**{"batch-size": 8}).optim.batch_size == 8  # dashes as in the option


def test_every_flat_name_belongs_to_one_part_and_config_json_keeps_its_keys():
    names = [
        "objective" if (p, f.name) == ("objective", "kind") else "model" if f.name == "name" else f.name
        for p, cls in PARTS.items()
        for f in dataclasses.fields(cls)
    ]
    assert len(names) == len(set(names))
    cfg = TrainConfig.from_flat(multiway="mw", pivot="eng", priority=["eng"], report_to="tensorboard")
    flat = cfg.to_json()
    assert sorted(flat) == sorted(FLAT_KEYS + ADDED) and sorted(names) == sorted(FLAT_KEYS + ADDED)
    assert flat["priority"] == ["eng"] and flat["model"] == cfg.model.name
    assert TrainConfig.from_flat(**json.loads(json.dumps(flat))) == cfg  # config.json reads back


def test_a_config_json_of_the_one_class_config_resumes_without_a_warning(tmp_path, caplog):
    cfg = TrainConfig.from_flat(pairs=["x-y.tsv"], objective="soft", batch_size=8)
    old = {k: cfg.to_json()[k] for k in FLAT_KEYS}  # the old key order (report_to among evaluation)
    (tmp_path / "config.json").write_text(json.dumps({"format": "langgap.train-config/1", "config": old}))
    defaults = TrainConfig().to_json()
    with caplog.at_level(logging.WARNING):
        warn_changed(tmp_path / "config.json", cfg.to_json(), defaults=defaults)
    assert not caplog.records  # a setting added since counts as its default
    with caplog.at_level(logging.WARNING):
        warn_changed(
            tmp_path / "config.json", cfg.replace(lr=1e-3, interpolate=0.5).to_json(), defaults=defaults
        )
    assert "differ from the checkpointed run: interpolate, lr" in caplog.text


def test_replace_changes_flat_settings_and_checks_them():
    cfg = TrainConfig.from_flat(objective="soft", batch_size=16)
    other = cfg.replace(lr=1e-3, objective="mse")
    assert (other.optim.lr, other.objective.kind, other.optim.batch_size) == (1e-3, "mse", 16)
    assert cfg.objective.kind == "soft"  # frozen: a copy
    with pytest.raises(InputError, match=r"unknown setting 'lrr' \(did you mean 'lr'\?\)"):
        cfg.replace(lrr=1)


@pytest.mark.parametrize(
    "build, message",
    [
        (
            lambda: ObjectiveConfig(kind="infonc"),
            r"^unknown --objective 'infonc' \(did you mean 'infonce'\?\)",
        ),  # type: ignore[arg-type]
        (lambda: ObjectiveConfig(temperature=0), r"^--temperature must be > 0, got 0$"),
        (lambda: ModelConfig(max_length=0), r"^--max-length must be >= 1, got 0$"),
        (lambda: ModelConfig(prompt="q", prompt_name="query"), "give --prompt or --prompt-name, not both"),
        (lambda: DataConfig(pivot="eng"), "^--pivot is the language --multiway or --mine-from pairs with"),
        (lambda: DataConfig(langs=("eng",)), "describe --multiway; give --multiway too"),
        (lambda: DataConfig(mine_from="mono"), r"^--mine-from needs --pivot LANG"),
        (lambda: MineConfig(rounds=0), r"^--rounds must be >= 1, got 0$"),
        (
            lambda: MineConfig(mine_calibrate=True),
            "--mine-calibrate finds each language's threshold on --mine-dev",
        ),
        (lambda: MineConfig(mine_threshold=1.0, mine_calibrate=True, mine_dev=("x-eng.tsv",)), "not both"),
        (lambda: MineConfig(mine_max_ratio=0.5), r"^--mine-max-ratio must be >= 1 \(0: no limit\), got 0.5$"),
        (lambda: MineConfig(mine_cap=-1), r"^--mine-cap must be >= 0"),
        (
            lambda: TrainConfig.from_flat(rounds=2),
            r"^--rounds and the --mine-\* options describe --mine-from DIR",
        ),
        (lambda: OptimConfig(batch_size=1), r"^--batch-size must be >= 2, got 1$"),
        (lambda: OptimConfig(mixed_precision="fp8"), r"^unknown --mixed-precision 'fp8'"),  # type: ignore[arg-type]
        (lambda: EvalConfig(collapse_threshold=0), r"^--collapse-threshold must be in \(0, 1\]"),
        (lambda: OutputConfig(save_every=-1), r"^--save-every must be >= 0, got -1$"),
        (lambda: TrainConfig.from_flat(epochs="two"), r"^config: epochs = 'two' is not a valid int$"),
    ],
)
def test_each_part_checks_its_values_naming_the_option(build, message):
    with pytest.raises(InputError, match=message):
        build()


def test_a_part_of_the_wrong_kind_is_refused():
    with pytest.raises(TypeError, match="TrainConfig.optim must be a OptimConfig"):
        TrainConfig(optim={"lr": 1.0})  # type: ignore[arg-type]


def test_toml_in_sections_or_flat_gives_the_same_config(tmp_path):
    flat = tmp_path / "flat.toml"
    flat.write_text('model = "m"\nobjective = "soft"\nbatch-size = 16\npairs = ["a.tsv"]\n')
    sections = tmp_path / "sections.toml"
    sections.write_text(
        '[model]\nname = "m"\n[objective]\nkind = "soft"\n[optim]\nbatch-size = 16\n[data]\npairs = ["a.tsv"]\n'
    )
    mixed = tmp_path / "mixed.toml"  # under [train], flat and sections together, flat aliases in sections
    mixed.write_text(
        '[train]\nbatch_size = 16\n[train.model]\nmodel = "m"\n'
        '[train.objective]\nobjective = "soft"\n[train.data]\npairs = "a.tsv"\n'
    )
    got = [TrainConfig.from_sources(p, {}) for p in (flat, sections, mixed)]
    assert got[0] == got[1] == got[2] and got[0].optim.batch_size == 16 and got[0].model.name == "m"


@pytest.mark.parametrize(
    "text, message",
    [
        ('[optim]\npairs = ["a.tsv"]\n', r"\[optim\] has no setting 'pairs'; it belongs in \[data\]"),
        (
            "[optim]\nbatch_sise = 3\n",
            r"\[optim\] has no setting 'batch_sise' \(did you mean 'batch_size'\?\)",
        ),
        ("lr = 1.0\n[optim]\nlr = 2.0\n", r"lr is given twice \(flat and in \[optim\]\)"),
        ("[objective]\nkind = 3\n", r"objective = 3 is not a valid Objective"),
        ("batch_sise = 3\n", r"unknown setting 'batch_sise' \(did you mean 'batch_size'\?\)"),
    ],
)
def test_bad_toml_names_the_file_and_the_setting(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=f"^{path}: {message}"):
        TrainConfig.from_sources(path, {})


def test_sources_are_checked_together_once_merged(tmp_path):
    """A TOML file may describe half of a rule the options complete (--multiway needs --pivot)."""
    toml = tmp_path / "t.toml"
    toml.write_text('[data]\nmultiway = "mw"\n')
    cfg = TrainConfig.from_sources(toml, {"pivot": "eng", "lr": None})
    assert (cfg.data.multiway, cfg.data.pivot, cfg.optim.lr) == ("mw", "eng", 2e-5)
    with pytest.raises(InputError, match="--multiway needs --pivot LANG"):
        TrainConfig.from_sources(toml, {})


def test_the_shipped_recipes_keep_their_settings():
    """The recipes are written in sections; these are the values their flat versions gave."""

    def read(name: str) -> TrainConfig:  # the settings, without the file's hash
        return TrainConfig.from_sources(None, {}, recipe_path(name)).replace(recipe_sha256=None)

    cpu, gpu, v1 = read("many-languages"), read("many-languages-gpu"), read("many-languages-v1")
    common = dict(objective="soft", labels="priority", teacher="SAME", sampling_alpha=0.3)
    common |= dict(cross_lingual_fraction=1.0, freeze_embeddings=True, mixed_precision="auto")
    want_cpu = common | dict(
        batch_size=32, max_steps=300, lr=2e-5, warmup_ratio=0.1, max_length=64, save_every=100
    )
    want_gpu = common | dict(
        batch_size=256, max_steps=2000, lr=5e-5, warmup_ratio=0.05, max_length=128, save_every=250
    )
    assert cpu == TrainConfig.from_flat(**want_cpu) and gpu == TrainConfig.from_flat(**want_gpu)
    assert v1 == TrainConfig.from_flat(**want_cpu)  # experiment e's recipe, kept as it ran

"""scripts/offline_models.py: the offline model copies are rebuilt only when their inputs' content
changes (not per clone), and replaced in one step while another process reads them."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "offline_models.py"

FAKE_TOOL = """
import argparse, pathlib
ap = argparse.ArgumentParser(); ap.add_argument("--out", type=pathlib.Path); a = ap.parse_args()
log = pathlib.Path(__file__).with_name("calls.log")
log.write_text(log.read_text() + "built\\n" if log.exists() else "built\\n")
for name in ("multilingual-e5-small", "all-MiniLM-L6-v2"):
    (a.out / name).mkdir(parents=True)
    (a.out / name / "config.json").write_text("{}")
    (a.out / name / "model.safetensors").write_text(pathlib.Path(__file__).with_name("version").read_text())
"""


@pytest.fixture
def setup_env(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("offline_models", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    pkgs = tmp_path / "site"
    for name, parts in (("fake_a", ["weights.bin"]), ("fake_b", ["model/w.bin", "model/c.json"])):
        for part in parts:
            f = pkgs / name / part
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(f"{name}:{part}")
        (pkgs / name / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(pkgs))
    monkeypatch.setattr(mod, "SOURCES", (("fake_a", ("weights.bin",)), ("fake_b", ("model",))))
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "materialize.py").write_text(FAKE_TOOL)
    (tools / "version").write_text("v1")
    return mod, tools / "materialize.py", tmp_path / "models", pkgs


def _calls(tool: Path) -> int:
    log = tool.with_name("calls.log")
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_built_once_per_content(setup_env, tmp_path):
    mod, tool, models, pkgs = setup_env
    assert mod.main([str(tool), str(models)]) == 0 and _calls(tool) == 1
    assert mod.main([str(tool), str(models)]) == 0 and _calls(tool) == 1  # up to date: nothing runs
    clone = tmp_path / "clone" / "materialize.py"  # another clone: another path, the same bytes
    clone.parent.mkdir()
    clone.write_text(tool.read_text())
    assert mod.main([str(clone), str(models)]) == 0 and _calls(clone) == 0
    (pkgs / "fake_b" / "model" / "w.bin").write_text("new weights")  # a source changed: rebuilt
    assert mod.main([str(tool), str(models)]) == 0 and _calls(tool) == 2
    assert not list(models.glob(".build-*"))


def test_replaced_in_one_step_under_a_reader(setup_env):
    mod, tool, models, pkgs = setup_env
    assert mod.main([str(tool), str(models)]) == 0
    reader = open(models / "multilingual-e5-small" / "model.safetensors")  # another clone loading it
    tool.with_name("version").write_text("v2")
    (pkgs / "fake_a" / "weights.bin").write_text("changed")
    assert mod.main([str(tool), str(models)]) == 0
    assert reader.read() == "v1"  # the old file stays whole for whoever has it open
    reader.close()
    assert (models / "multilingual-e5-small" / "model.safetensors").read_text() == "v2"
    assert sorted(p.name for p in models.iterdir()) == [".langgap-inputs.json", *sorted(mod.NAMES)]


def test_missing_source_package_rebuilds_through_the_converter(setup_env, monkeypatch):
    mod, tool, models, _ = setup_env
    monkeypatch.setattr(mod, "SOURCES", (("not_installed_pkg", ("x",)),))
    assert mod.inputs_sha256(tool) is None
    assert mod.main([str(tool), str(models)]) == 0 and _calls(tool) == 1  # the converter decides
    assert not (models / mod.STAMP).exists()
    assert sys.modules.get("not_installed_pkg") is None

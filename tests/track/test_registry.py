"""Registry: challenger on registration, gated promotion, rollback, resolution, pyfunc."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from relwatch.core.config import get_settings
from relwatch.track import registry
from relwatch.track.registry import ModelRegistryError, PromotionRefused
from tests.classify.tiny_models import run_cli, tiny_package
from tests.track.conftest import log_version


def aliases(name: str) -> dict[str, str]:
    return {a: v.version for v in registry.list_models(settings=get_settings()) for a in v.aliases}


def test_promote_gate_and_rollback_walk_the_champion_history(registry_env):
    package = tiny_package()
    assert log_version(package, 0.80) == "1"
    assert aliases(registry_env) == {"challenger": "1"}
    first = registry.promote(settings=get_settings())  # no champion yet: the first promotion passes
    assert (first.version, first.previous, first.promoted) == ("1", None, True)
    assert aliases(registry_env) == {"champion": "1"}  # challenger consumed

    assert log_version(package, 0.70) == "2"
    with pytest.raises(PromotionRefused) as refused:
        registry.promote(settings=get_settings(), margin=0.05)
    assert (refused.value.result.candidate_metric, refused.value.result.champion_metric) == (
        0.70,
        0.80,
    )
    assert "0.7000" in str(refused.value) and "0.8000" in str(refused.value)
    assert aliases(registry_env) == {"champion": "1", "challenger": "2"}

    second = registry.promote(settings=get_settings(), margin=0.15)
    assert (second.version, second.previous) == ("2", "1")
    assert log_version(package, 0.85) == "3"
    assert registry.promote(settings=get_settings(), version="3").previous == "2"
    assert aliases(registry_env) == {"champion": "3"}

    assert registry.rollback(settings=get_settings()).to_version == "2"
    assert registry.rollback(settings=get_settings()).to_version == "1"
    with pytest.raises(ModelRegistryError, match="first champion"):
        registry.rollback(settings=get_settings())
    versions = {v.version: v for v in registry.list_models(settings=get_settings())}
    assert [v for v in versions] == ["3", "2", "1"]
    assert versions["3"].metrics["gate_macro_f1"] == 0.85
    assert versions["3"].tags["relwatch.previous_champion"] == "2"


def test_promotion_needs_a_gate_metric_and_a_real_version(registry_env):
    with pytest.raises(ModelRegistryError, match="no registered model"):
        registry.promote(settings=get_settings())
    log_version(tiny_package(), None)
    with pytest.raises(ModelRegistryError, match="no gate_macro_f1"):
        registry.promote(settings=get_settings())
    with pytest.raises(ModelRegistryError, match="no version 42"):
        registry.promote(settings=get_settings(), version="42")
    with pytest.raises(ModelRegistryError, match="nothing to roll back"):
        registry.rollback(settings=get_settings())


def test_versions_scored_on_different_gate_sets_are_not_compared(registry_env):
    package = tiny_package()
    log_version(package, 0.60, gate="a" * 64)
    registry.promote(settings=get_settings())
    log_version(package, 0.90, gate="b" * 64)  # a higher figure, but on another gate
    with pytest.raises(ModelRegistryError, match="another gate set") as error:
        registry.promote(settings=get_settings())
    assert "--allow-gate-change" in str(error.value)
    assert aliases(registry_env) == {"champion": "1", "challenger": "2"}
    assert registry.promote(settings=get_settings(), allow_gate_change=True).version == "2"
    log_version(package, 0.85, gate="b" * 64)  # same gate: the ordinary comparison
    with pytest.raises(PromotionRefused):
        registry.promote(settings=get_settings())


def test_resolve_model_downloads_the_serving_package_once(registry_env, tmp_path: Path):
    version = log_version(tiny_package(), 0.5)
    registry.promote(settings=get_settings(), version=version)
    by_alias, v1 = registry.resolve_model(
        f"models:/{registry_env}@champion", settings=get_settings()
    )
    by_number, v2 = registry.resolve_model(version, settings=get_settings())
    by_uri, v3 = registry.resolve_model(
        f"models:/{registry_env}/{version}", settings=get_settings()
    )
    assert v1 == v2 == v3 == version
    assert by_alias == by_number == by_uri
    meta = json.loads((by_alias / "relwatch.json").read_text())
    assert meta["files"] == json.loads((tiny_package() / "relwatch.json").read_text())["files"]
    assert registry.resolve_model(str(tiny_package()), settings=get_settings()) == (
        tiny_package().resolve(),
        None,
    )
    for spec, message in [
        (f"models:/{registry_env}@nope", "no alias"),
        ("99", "no version"),
        (str(tmp_path / "missing"), "does not exist"),
        ("models:/a/b/c", "bad model URI"),
        ("", "empty"),
    ]:
        with pytest.raises(ModelRegistryError, match=message):
            registry.resolve_model(spec, settings=get_settings())


def test_pyfunc_model_loads_predicts_and_pickles(registry_env):
    import mlflow
    import pandas as pd

    from relwatch.track.pyfunc import RelationPyfunc

    version = log_version(tiny_package(), 0.5)
    model = mlflow.pyfunc.load_model(f"models:/{registry_env}/{version}")
    out = model.predict(
        pd.DataFrame(
            {
                "text": ["Japan and China clashed.", "Talks ended."],
                "source": ["Japan", None],
                "target": ["China", None],
            }
        )
    )
    assert list(out.columns) == ["label", "conflict", "neutral", "cooperation"]
    assert len(out) == 2 and set(out["label"]) <= {"conflict", "neutral", "cooperation"}
    inner = model.unwrap_python_model()
    assert isinstance(inner, RelationPyfunc) and inner._model is not None
    clone = pickle.loads(pickle.dumps(inner))  # onnxruntime sessions are dropped...
    assert clone._model is None
    assert len(clone.predict(None, pd.DataFrame({"text": ["x"]}))) == 1  # ...and rebuilt


def test_cli_list_promote_refuse_rollback_and_predict(registry_env, tmp_path: Path, capsys):
    package = tiny_package()
    code, _, err = run_cli(capsys, "models", "list")
    assert code == 2 and "no registered model" in err
    log_version(package, 0.9)
    assert run_cli(capsys, "models", "promote")[0] == 0
    log_version(package, 0.6)
    code, _, err = run_cli(capsys, "models", "promote")
    assert code == 1 and "0.6000" in err and "0.9000" in err and "refused" in err
    code, out, _ = run_cli(capsys, "models", "promote", "--margin", "0.5")
    assert code == 0 and "version 2 is now champion" in " ".join(out.split())
    code, out, _ = run_cli(capsys, "models", "list")
    assert code == 0 and "champion" in out and "0.9000" in out and "0.6000" in out
    code, out, _ = run_cli(capsys, "models", "rollback")
    assert code == 0 and "2 → 1" in out

    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": "Seoul praised Tokyo."}) + "\n")
    code, _, err = run_cli(
        capsys,
        "predict",
        "--model",
        f"models:/{registry_env}@champion",
        "--input",
        str(src),
        "--output",
        str(tmp_path / "out.jsonl"),
    )
    assert code == 0, err
    row = json.loads((tmp_path / "out.jsonl").read_text())
    assert row["id"] == "a" and row["model_version"] == "1"
    code, _, err = run_cli(
        capsys,
        "predict",
        "--model",
        "77",
        "--input",
        str(src),
        "--output",
        str(tmp_path / "o2.jsonl"),
    )
    assert code == 2 and "no version 77" in err

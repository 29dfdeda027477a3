"""Resolve and load a model spec: the one place a model gets its name and version label.

Specs: ``models:/NAME@ALIAS``, ``models:/NAME/VERSION``, a bare version number of the
configured registered model, or a local serving-package / TF-IDF folder. A registry model
is labelled by its version number; a local folder by ``local:<folder name>``, so stored
predictions always say which model made them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from relwatch.classify.engine import RelationModel
from relwatch.core.config import Settings
from relwatch.core.errors import InputError

__all__ = ["LOCAL_MODEL_NAME", "LoadedModel", "default_model_spec", "load_model", "load_package"]

LOCAL_MODEL_NAME = "local"
_VERSION_LABEL_MAX = 50


@dataclass(frozen=True)
class LoadedModel:
    """A loaded engine and the labels every stored or served prediction carries."""

    engine: RelationModel
    name: str
    version: str
    package_dir: Path
    spec: str


def default_model_spec(settings: Settings) -> str:
    """The champion of the configured registered model."""
    return f"models:/{settings.registered_model}@champion"


def load_model(
    spec: str | None,
    *,
    settings: Settings,
    precision: Literal["int8", "fp32"] = "int8",
    threads: int = 0,
    spin: bool = True,
) -> LoadedModel:
    """Resolve ``spec`` (default: the champion) and load it; one-line errors otherwise."""
    from relwatch.track.registry import resolve_model

    if precision not in ("int8", "fp32"):
        raise InputError(f"precision must be int8 or fp32, not {precision!r}")
    spec = (spec or default_model_spec(settings)).strip()
    package_dir, version = resolve_model(spec, settings=settings)
    engine = RelationModel.load(package_dir, precision=precision, threads=threads, spin=spin)
    if version is None:
        name, label = LOCAL_MODEL_NAME, f"local:{package_dir.name}"[:_VERSION_LABEL_MAX]
    else:
        name, label = _registered_name(spec, settings), version
    return LoadedModel(engine=engine, name=name, version=label, package_dir=package_dir, spec=spec)


def load_package(
    package_dir: Path, *, name: str, version: str, spec: str, threads: int = 0, spin: bool = True
) -> LoadedModel:
    """A registry version already downloaded to ``package_dir``, loaded without asking the
    registry (the caller knows which version it is and confirms it later)."""
    engine = RelationModel.load(package_dir, precision="int8", threads=threads, spin=spin)
    return LoadedModel(
        engine=engine, name=name, version=version, package_dir=package_dir, spec=spec
    )


def _registered_name(spec: str, settings: Settings) -> str:
    if spec.startswith("models:/"):
        return spec.removeprefix("models:/").split("@", 1)[0].split("/", 1)[0]
    return settings.registered_model

"""Serving: load a model by spec (registry URI, alias, version or path) for every face.

The HTTP API, batch prediction and the database classifier all resolve models here, so a
model has one version label wherever it answers. The API's engine, micro-batcher and cache
grow here too; :mod:`relwatch.api` stays a thin HTTP face over it.
"""

from relwatch.serve.models import LoadedModel, default_model_spec, load_model

__all__ = ["LoadedModel", "default_model_spec", "load_model"]

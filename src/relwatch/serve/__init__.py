"""Serving: load a model by spec for every face, and the runtime behind the HTTP API.

The HTTP API, batch prediction and the database classifier all resolve models here, so a
model has one version label wherever it answers. The API's engine pool (hot reload), the
micro-batcher, the prediction cache, URL fetching and explanations live here too;
:mod:`relwatch.api` stays a thin HTTP face over :class:`ServeRuntime`.
"""

from relwatch.serve.batching import BatchFailed, MicroBatcher, length_groups
from relwatch.serve.cache import MemoryCache, RedisCache, cache_key, make_cache
from relwatch.serve.explain import explain
from relwatch.serve.metrics import ServeMetrics
from relwatch.serve.models import LoadedModel, default_model_spec, load_model
from relwatch.serve.pool import ModelPool, ReloadResult, parse_request_model
from relwatch.serve.relations import TextItem, predict_items_sync
from relwatch.serve.runtime import ServeRuntime
from relwatch.serve.urlfetch import AddressPolicy, UrlFetchFailed, UrlRefused, fetch_article

__all__ = [
    "AddressPolicy",
    "BatchFailed",
    "LoadedModel",
    "MemoryCache",
    "MicroBatcher",
    "ModelPool",
    "RedisCache",
    "ReloadResult",
    "ServeMetrics",
    "ServeRuntime",
    "TextItem",
    "UrlFetchFailed",
    "UrlRefused",
    "cache_key",
    "default_model_spec",
    "explain",
    "fetch_article",
    "length_groups",
    "load_model",
    "make_cache",
    "parse_request_model",
    "predict_items_sync",
]

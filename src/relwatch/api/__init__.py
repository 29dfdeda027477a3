"""The HTTP face (FastAPI): one route module per resource over the library.

Routes hold no business logic: they validate, call :mod:`relwatch.serve`,
:mod:`relwatch.flows` or :mod:`relwatch.index`, and turn
:class:`relwatch.core.errors.RelwatchError` into a 4xx with its message. Build the app with
:func:`create_app`; ``relwatch serve`` runs it under uvicorn.
"""

from relwatch.api.main import create_app

__all__ = ["create_app"]

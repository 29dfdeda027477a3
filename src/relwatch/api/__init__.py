"""The HTTP face (FastAPI): one route module per resource over the library.

Routes hold no business logic: they validate, call :mod:`relwatch.serve`,
:mod:`relwatch.flows` or :mod:`relwatch.index`, and turn
:class:`relwatch.core.errors.RelwatchError` into a 4xx with its message.
"""

__all__: list[str] = []

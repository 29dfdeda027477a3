"""One router per resource; :mod:`relwatch.api.main` includes them all."""

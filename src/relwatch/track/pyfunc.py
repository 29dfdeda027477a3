"""The MLflow pyfunc wrapper around a serving package.

``mlflow.pyfunc.load_model(...)`` must work anywhere relwatch is installed, so the model
logs the serving package as an artifact and loads it with the torch-free engine. The
onnxruntime session cannot be pickled: ``__getstate__`` drops it and ``load_context``
(or the first ``predict``) rebuilds it.
"""

from __future__ import annotations

from typing import Any

import mlflow.pyfunc
import pandas as pd

from relwatch.core.models import LABELS

PACKAGE_ARTIFACT = "package"


class RelationPyfunc(mlflow.pyfunc.PythonModel):
    """Input: a DataFrame with ``text`` (+ optional ``source``, ``target``).

    Output: one row per input with ``label`` and one probability column per label.
    """

    def __init__(self, precision: str = "int8") -> None:
        self.precision = precision
        self._model: Any = None
        self._path: str | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_model"] = None  # onnxruntime sessions are not picklable
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def load_context(self, context: mlflow.pyfunc.PythonModelContext) -> None:
        self._path = context.artifacts[PACKAGE_ARTIFACT]
        self._model = None

    def _engine(self) -> Any:
        if self._model is None:
            from relwatch.classify.engine import RelationModel

            if self._path is None:
                raise RuntimeError("model context not loaded")
            self._model = RelationModel.load(self._path, precision=self.precision)
        return self._model

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        frame = (
            pd.DataFrame({"text": model_input}) if isinstance(model_input, list) else model_input
        )
        rows = [
            {
                "text": str(r.get("text", "")),
                "source": r.get("source") if isinstance(r.get("source"), str) else None,
                "target": r.get("target") if isinstance(r.get("target"), str) else None,
            }
            for r in frame.to_dict(orient="records")
        ]
        preds = self._engine().predict(rows)
        return pd.DataFrame(
            [{"label": p["label"], **{label: p["probs"][label] for label in LABELS}} for p in preds]
        )

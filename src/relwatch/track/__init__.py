"""Experiment tracking and the model registry (MLflow).

Every training run is an MLflow run; every exported model is a registered model version
whose aliases (``challenger``, ``champion``) say which one serves. Stages are deprecated
in MLflow 3 and are never used.
"""

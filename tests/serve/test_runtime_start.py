"""The server's start imports spaCy without torch, and leaves torch importable."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_spacy_is_imported_without_torch_and_torch_stays_importable():
    code = textwrap.dedent(
        """
        import sys
        from relwatch.serve.relations import _import_spacy
        assert "torch" not in sys.modules, "torch was imported before the test"
        _import_spacy()
        print("spacy" in sys.modules, "torch" in sys.modules)
        import torch
        print(torch.tensor([1, 2]).sum().item())
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.split() == ["True", "False", "3"]


def test_the_gazetteer_loads_without_pandas():
    """Country names come from library tables read as files: importing country_converter
    would import pandas, a second of every server start."""
    code = textwrap.dedent(
        """
        import sys
        from relwatch.extract.gazetteer import load_gazetteer
        gazetteer = load_gazetteer()
        print(len(gazetteer.countries) > 200, "pandas" in sys.modules)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.splitlines()[-1].split() == ["True", "False"]

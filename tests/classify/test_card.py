from __future__ import annotations

import numpy as np

from relwatch.classify.card import render_card
from relwatch.classify.evaluate import evaluate


def test_card_lists_data_hashes_gate_and_per_source_figures():
    probs = np.eye(3)[[0, 1, 2, 2]]
    test = evaluate("test", [0, 1, 2, 0], probs, ["conflibert", "conflibert", "kil", "kil"])
    card = render_card(
        name="relwatch-relation",
        kind="transformer",
        params={"base_model": "m", "seed": 42},
        data={
            "conflibert": {
                "rows": 4,
                "train": 2,
                "validation": 1,
                "test": 1,
                "hash": "ab" * 32,
                "trained_on": True,
            }
        },
        reports=[test],
        gate=test,
        temperature=1.25,
        train_seconds=61.0,
        run_id="r1",
        version="3",
    )
    assert "| conflibert | yes | 4 | 2 | 1 | 1 | `abababababababab` |" in card
    assert "**0.778**" in card  # gate macro-F1 (2/3 + 1 + 2/3) / 3, in bold
    assert "| test | kil | 2 | 0.500 |" in card
    assert "temperature (calibration): 1.250" in card and "version: `3`" in card
    assert "Parolin" in card  # the set is cited

"""The reversal minimal pairs that bench/reversals.py scores are well formed."""

import json
from collections import defaultdict
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "bench" / "data" / "reversals.jsonl"


def test_every_pair_is_an_event_and_its_undoing_with_opposite_labels():
    rows = [json.loads(line) for line in DATA.read_text("utf-8").splitlines() if line.strip()]
    pairs: dict[int, dict[str, dict]] = defaultdict(dict)
    for row in rows:
        for side in ("a", "b"):
            start, end = row[f"{side}_span"]
            assert row["text"][start:end] == row[side], row["id"]
        (a0, a1), (b0, b1) = row["a_span"], row["b_span"]
        assert a1 <= b0 or b1 <= a0, f"{row['id']}: the two countries overlap"
        pairs[row["pair"]][row["kind"]] = row
    assert len(pairs) == 60 and len(rows) == 120
    for pair in pairs.values():
        plain, undone = pair["plain"], pair["reversal"]
        assert {plain["label"], undone["label"]} == {"conflict", "cooperation"}
        assert plain["text"] != undone["text"]

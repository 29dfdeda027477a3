"""Model card: what a model was trained on, how well it does per source, and its limits.

Written as markdown next to every run so the figures an engineer promotes on and the
caveats an analyst must know travel with the model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from relwatch.classify.evaluate import Report

CITATIONS = {
    "conflibert": "ConfliBERT CAMEO sentences (Parolin et al., AIES 2022); research use.",
    "directed_sentiment": "Directed sentiment (Park, Pan, Joo, ACL-IJCNLP 2021); research use.",
    "keep_it_local": "Keep it Local UN sentences (MIT licence).",
    "seed_sample": "relwatch seed sample (research use).",
    "newsmtsc": "NewsMTSC (Hamborg & Donnay, EACL 2021; MIT licence).",
}


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _table(reports: Sequence[Report]) -> list[str]:
    lines = [
        "| set | source | n | accuracy | macro-F1 | coop-vs-conflict acc. | ECE |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for report in reports:
        for source, item in [("all", report), *report.by_source.items()]:
            lines.append(
                f"| {report.name} | {source} | {item.n} | {_fmt(item.accuracy)} | "
                f"{_fmt(item.macro_f1)} | {_fmt(item.coop_conflict_accuracy)} | {_fmt(item.ece)} |"
            )
    return lines


def render_card(
    *,
    name: str,
    kind: str,
    params: Mapping[str, Any],
    data: Mapping[str, Mapping[str, Any]],
    reports: Sequence[Report],
    gate: Report | None,
    temperature: float,
    train_seconds: float,
    run_id: str | None = None,
    version: str | None = None,
) -> str:
    """The card as markdown; ``data`` maps set name -> {rows, hash, train, validation, test}."""
    lines = [f"# Model card: {name}", ""]
    head = f"- kind: **{kind}**; base model: `{params.get('base_model', '-')}`"
    lines += [
        head,
        f"- MLflow run: `{run_id or '-'}`; registered version: `{version or '-'}`",
        f"- training time: {train_seconds:.0f} s; temperature (calibration): {temperature:.3f}",
        "- labels: conflict / neutral / cooperation; input: sentence with the country "
        "pair marked `[A] … [/A]`, `[B] … [/B]` when known",
        "",
    ]
    lines += [
        "## Intended use",
        "Scoring how two countries relate in one news sentence, aggregated into a daily "
        "relation index. Not for judging individual people, and not a substitute for "
        "reading the sentence: every index point links to its evidence.",
        "",
    ]
    lines += [
        "## Data",
        "| set | trained on (rows used) | rows | train | validation | test | content hash |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for set_name, info in data.items():
        used = (
            f"yes ({info['trained_rows']})"
            if info.get("trained_rows")
            else "yes"
            if info.get("trained_on")
            else "no (evaluation only)"
        )
        lines.append(
            f"| {set_name} | {used} | {info.get('rows', '-')} | "
            f"{info.get('train', '-')} | "
            f"{info.get('validation', '-')} | {info.get('test', '-')} | "
            f"`{str(info.get('hash', '-'))[:16]}` |"
        )
    lines += [
        "",
        "Splits hash the normalised sentence, so no sentence is in two splits "
        "(directed_sentiment repeats 400 test sentences in train with other pairs).",
        "",
    ]
    if gate is not None:
        lines += [
            "## Promotion gate",
            f"macro-F1 on the fixed gate set (held-out test split of "
            f"{', '.join(gate.by_source) or gate.name}): **{gate.macro_f1:.3f}**; "
            f"coop-vs-conflict accuracy {_fmt(gate.coop_conflict_accuracy)}; "
            f"ECE {_fmt(gate.ece)}.",
            "",
        ]
    lines += ["## Held-out figures, per source", *_table(reports), ""]
    lines += [
        "Targets: macro-F1 ≥ 0.90 and coop-vs-conflict accuracy ≥ 0.95 on held-out "
        'data. directed_sentiment\'s *neutral* means "no sentiment between two people" '
        "and is not trained on, so its 3-class figures measure a different task; its "
        "coop-vs-conflict accuracy is the comparable figure.",
        "",
    ]
    lines += ["## Training parameters", "| parameter | value |", "|---|---|"]
    lines += [f"| {key} | `{value}` |" for key, value in sorted(params.items())]
    lines += [
        "",
        "## Limitations",
        "- Trained on English news and UN documents from c. 2017-18; few sentences name "
        "two focus countries, so in-domain labels must grow through the labelling loop.",
        "- Direction (A→B vs B→A) is not predicted; the label is the relation in the sentence.",
        "- Calibration is fitted on the validation split; re-check ECE on new sources.",
        "",
        "## Sources",
        *[f"- {CITATIONS.get(s, s)}" for s in data],
        "",
    ]
    return "\n".join(lines)

"""Model card: what a model was trained on, how well it does per source, and its limits.

Written as markdown next to every run so the figures an engineer promotes on and the
caveats an analyst must know travel with the model.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

from relwatch.classify.evaluate import Report

CV_ESTIMATE_FILE = "cv_estimate.json"
# The parameters that make a recipe: a run that differs in any of them is not the model
# the cross-validated estimate describes.
RECIPE_KEYS = (
    "model",
    "base_model",
    "datasets",
    "dataset_caps",
    "dataset_weights",
    "drop_neutral",
    "pooling",
    "head_dropout",
    "head_lr_scale",
    "swap_names",
    "swap_sides",
    "one_side_markers",
    "bare_markers",
    "max_length",
    "batch_size",
    "learning_rate",
    "weight_decay",
    "warmup_ratio",
    "layer_lr_decay",
    "num_epochs",
    "class_weights",
    "class_balanced_sampling",
    "contrastive_iterations",
    "contrastive_learning_rate",
    "contrastive_batch_size",
    "distill_seeds",
    "distill_alpha",
    "split_seed",
    "validation_fraction",
    "test_fraction",
)
CV_COLUMNS = (
    ("conflibert", "f1.marked", "conflibert F1 marked"),
    ("conflibert", "f1.one-side", "one side"),
    ("conflibert", "f1.bare", "bare"),
    ("conflibert", "cvc", "coop-vs-conflict"),
    ("pair_contrast", "f1.marked", "pair-contrast F1"),
    ("pair_contrast", "contrast_accuracy", "pair-contrast accuracy"),
    ("pair_contrast", "mixed_all_right", "mixed sentences right"),
    ("pair_contrast", "contrast_spread", "spread"),
    ("market_news", "f1.marked", "market-news F1"),
)

CITATIONS = {
    "conflibert": "ConfliBERT CAMEO sentences (Parolin et al., AIES 2022); research use.",
    "directed_sentiment": "Directed sentiment (Park, Pan, Joo, ACL-IJCNLP 2021); research use.",
    "keep_it_local": "Keep it Local UN sentences (MIT licence).",
    "seed_sample": "relwatch seed sample (research use).",
    "newsmtsc": "NewsMTSC (Hamborg & Donnay, EACL 2021; MIT licence).",
    "pair_contrast": "relwatch pair-contrast sentences (the project's own labels).",
    "market_news": "relwatch market-news sentences (the project's own labels).",
    "undoings": "relwatch undoing and withdrawal sentences (the project's own labels).",
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


def load_cv_estimate() -> dict[str, Any] | None:
    """The cross-validated estimate ``bench/cv.py --write-estimate`` stored with the package."""
    path = resources.files("relwatch.classify").joinpath("data", CV_ESTIMATE_FILE)
    if not path.is_file():
        return None
    return json.loads(path.read_text("utf-8"))


def recipe_params(params: Mapping[str, Any]) -> dict[str, str]:
    """The recipe part of a run's flat parameters, as strings (comparable across runs)."""
    return {key: str(params.get(key, "-")) for key in RECIPE_KEYS}


def _cv_section(cv: Mapping[str, Any], params: Mapping[str, Any]) -> list[str]:
    chosen = cv["chosen"]
    mine = recipe_params(params)
    differs = sorted(
        key for key, value in mine.items() if str(cv.get("recipe", {}).get(key, "-")) != value
    )
    # A preset that is a measured candidate (``--thorough`` is ``distilled-3``) has its row.
    followed = next(
        (name for name, c in cv["candidates"].items() if differs and c.get("recipe") == mine),
        None,
    )
    lines = ["## Cross-validated estimate", ""]
    if followed:
        lines += [
            f"This run's recipe is the cross-validated candidate **{followed}**: its row below "
            "describes this model.",
            "",
        ]
    elif differs:
        lines += [
            f"This run's recipe differs from the cross-validated one in {', '.join(differs)}: "
            "the figures below describe the cross-validated recipe, not this model.",
            "",
        ]
    served = cv.get("estimate")
    if served:
        k = int(str(served["folds"]).split("x")[0])
        lines += [
            f"The chosen recipe's estimate (first row) is measured on {k} folds, so that each "
            f"fold model trains on {(k - 1) / k:.0%} of the pool, nearer the refit (which trains "
            "on all of it) than the comparison of candidates below; its out-of-fold temperature "
            "is the recipe's.",
            "",
        ]
    lines += [
        f"Protocol: {cv['protocol']} Pool: "
        + ", ".join(f"{k} {v}" for k, v in cv.get("pool", {}).items())
        + ". Temperature fitted on the out-of-fold news logits: "
        + (f"{cv['temperature']:.3f}." if cv.get("temperature") is not None else "-."),
        "",
        "| candidate | folds × repeats | " + " | ".join(title for _, _, title in CV_COLUMNS) + " |",
        "|---|---|" + "---:|" * len(CV_COLUMNS),
    ]

    def cell(summary: Mapping[str, Any], source: str, key: str) -> str:
        value = summary.get(source, {}).get(key)
        return "–" if value is None else f"{value[0]:.3f} ± {value[1]:.3f}"

    rows = [(f"**{chosen}** (chosen): estimate", served)] if served else []
    rows += [
        (f"**{n}** (chosen)" if n == chosen else n, c)
        for n, c in cv["candidates"].items()
        if not (n == chosen and served and c["summary"] == served["summary"])
    ]
    for label, candidate in rows:
        summary = candidate["summary"]
        cells = " | ".join(cell(summary, s, k) for s, k, _ in CV_COLUMNS)
        design = str(candidate.get("folds", "-")).replace("x", " × ")
        lines.append(f"| {label} | {design} | {cells} |")
    lines += ["", "Not chosen:"]
    lines += [
        f"- {name}: {candidate.get('description', '')} — {_why_not(cv, name, candidate)}."
        for name, candidate in cv["candidates"].items()
        if name != chosen
    ]
    lines.append("")
    return lines


def _why_not(cv: Mapping[str, Any], name: str, candidate: Mapping[str, Any]) -> str:
    """Where a rejected candidate stands against the reference measured with as many folds:
    the figures more than a standard deviation apart."""
    k = fold_count(candidate)
    reference = _reference(cv, k)
    if reference is None:
        return f"measured on {k}-fold splits, where no reference recipe was"
    against, best = reference[0], reference[1]["summary"]
    if against == name:
        return f"the reference of the {k}-fold rows"
    apart: dict[bool, list[str]] = {True: [], False: []}  # better?, figures
    for source, key, title in CV_COLUMNS:
        mine, theirs = (
            best.get(source, {}).get(key),
            candidate["summary"].get(source, {}).get(key),
        )
        if mine is None or theirs is None or key == "contrast_spread":
            continue
        if abs(theirs[0] - mine[0]) > max(mine[1], theirs[1]):
            apart[theirs[0] > mine[0]].append(f"{title} {theirs[0]:.3f} vs {mine[0]:.3f}")
    parts = [f"worse on {'; '.join(apart[False])}"] if apart[False] else []
    parts += [f"better on {'; '.join(apart[True])}"] if apart[True] else []
    why = ", ".join(parts) or "no figure more than a standard deviation apart"
    who = "the chosen" if against == cv["chosen"] else against
    return f"{why} (against {who}, both on {k}-fold splits)"


def fold_count(row: Mapping[str, Any]) -> str:
    """Folds per repeat of a row's design ("5x2" -> "5"): rows with as many folds train on
    as large a share of the pool, so their figures compare; repeats only add folds."""
    return str(row.get("folds", "-")).split("x")[0]


def _reference(cv: Mapping[str, Any], k: str) -> tuple[str, Mapping[str, Any]] | None:
    """The row a candidate measured on ``k``-fold splits is judged against: the chosen
    recipe's with as many folds, else the recipe the file names for that fold count
    (``compared_with``)."""
    chosen = cv["chosen"]
    for row in (cv["candidates"][chosen], cv.get("estimate") or {}):
        if fold_count(row) == k:
            return chosen, row
    name = cv.get("compared_with", {}).get(k)
    row = cv["candidates"].get(name) if name else None
    if row is not None and fold_count(row) == k:
        return name, row
    return None


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
    cv: Mapping[str, Any] | None = None,
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
    contrast = [
        (report.name, source, item.contrast)
        for report in reports
        for source, item in report.by_source.items()
        if item.contrast
    ]
    if contrast:
        lines += [
            "Pair-level figures on sentences with several labelled pairs: the probability "
            "spread between a sentence's pairs (0 for a model that ignores the markers); for "
            "sentences whose pairs carry different labels, the share in which every pair gets "
            "its own right label (pair-contrast accuracy); for sentences holding both a "
            "cooperating and a conflicting pair, the share in which every such pair is on the "
            "right side.",
            "",
            "| set | source | sentences | spread | differing | pair-contrast accuracy "
            "| mixed sentences | all on the right side |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for name, source, figures in contrast:
            lines.append(
                f"| {name} | {source} | {figures['contrast_sentences']:.0f} | "
                f"{figures['contrast_spread']:.3f} | "
                f"{figures.get('differing_sentences', 0):.0f} | "
                f"{_fmt(figures.get('contrast_accuracy'))} | "
                f"{figures.get('mixed_sentences', 0):.0f} | "
                f"{_fmt(figures.get('mixed_all_right'))} |"
            )
        lines.append("")
    if cv:
        lines += _cv_section(cv, params)
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
        "- The pair-contrast set was written and labelled by one engineer (no second "
        "annotator); its held-out 30% is the only pair-level gate.",
        "- Calibration: a refit (the full and thorough presets) uses the temperature fitted on "
        "its recipe's cross-validated out-of-fold news logits, other runs fit it on their "
        "validation split; re-check ECE on new sources.",
        "",
        "## Sources",
        *[f"- {CITATIONS.get(s, s)}" for s in data],
        "",
    ]
    return "\n".join(lines)

"""SetFit-style contrastive tuning of the encoder before the classifier is trained.

SetFit (Tunstall et al. 2022, the library built on this very MiniLM) first tunes the
sentence-transformer body so that two inputs of the same label embed close (cosine 1) and
two of different labels far apart (cosine 0), then fits a head on the tuned body. Here the
embedding is what the head reads (for the pair-aware head: the ``[A]`` and ``[B]`` marker
states and the mean-pooled sentence), and where one sentence carries pairs of different
labels, half of an anchor's negatives are another pair of the *same* sentence: the body
must learn that one sentence can hold two readings. Imports torch: training only.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from relwatch.classify.data import Example, normalize_sentence
from relwatch.core.logging import get_logger

log = get_logger(__name__)

HARD_NEGATIVE_SHARE = 0.5
"""Share of an anchor's negatives drawn from its own sentence, where that sentence has a
pair of another label."""


def sample_pairs(
    labels: Sequence[int], groups: Sequence[str], iterations: int, rng: random.Random
) -> list[tuple[int, int, float]]:
    """``(i, j, target)`` row pairs: per iteration, one positive (same label, target 1) and
    one negative (another label, target 0) for every row, shuffled (SetFit's
    ``num_iterations`` sampling). A label with a single row gets no positive."""
    by_label: dict[int, list[int]] = {}
    by_group: dict[str, list[int]] = {}
    for i, (label, group) in enumerate(zip(labels, groups, strict=True)):
        by_label.setdefault(label, []).append(i)
        by_group.setdefault(group, []).append(i)
    others = {
        label: [i for other, rows in by_label.items() if other != label for i in rows]
        for label in by_label
    }
    pairs: list[tuple[int, int, float]] = []
    for _ in range(iterations):
        for i, label in enumerate(labels):
            same = by_label[label]
            if len(same) > 1:
                j = i
                while j == i:
                    j = rng.choice(same)
                pairs.append((i, j, 1.0))
            hard = [k for k in by_group[groups[i]] if labels[k] != label]
            if hard and rng.random() < HARD_NEGATIVE_SHARE:
                pairs.append((i, rng.choice(hard), 0.0))
            elif others[label]:
                pairs.append((i, rng.choice(others[label]), 0.0))
    rng.shuffle(pairs)
    return pairs


def embed(model: Any, batch: Any) -> Any:
    """The vector the classifier head reads: the pair head's features, or the mean-pooled
    encoder states of a sentence classifier."""
    if hasattr(model, "features"):
        return model.features(**batch)
    hidden = model.base_model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)


def tune_body(
    model: Any,
    tokenizer: Any,
    rows: Sequence[Example],
    *,
    iterations: int,
    learning_rate: float,
    batch_size: int,
    max_length: int,
    seed: int,
    warmup_ratio: float = 0.1,
) -> dict[str, float]:
    """One epoch of cosine-similarity loss over :func:`sample_pairs`; the model is left
    in training mode, its head untouched. Returns figures for the run's log."""
    import torch
    from transformers import get_linear_schedule_with_warmup

    started = time.perf_counter()
    rng = random.Random(seed)
    labels = [e.label_id for e in rows]
    groups = [normalize_sentence(e.text) for e in rows]
    pairs = sample_pairs(labels, groups, iterations, rng)
    if not pairs:
        return {"contrastive_pairs": 0.0}
    encoded = tokenizer([e.model_input() for e in rows], truncation=True, max_length=max_length)
    head = {id(p) for p in getattr(model, "head_parameters", list)()}
    body = [p for p in model.parameters() if id(p) not in head and p.requires_grad]
    optimizer = torch.optim.AdamW(body, lr=learning_rate)
    steps = -(-len(pairs) // batch_size)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(steps * warmup_ratio), steps)
    model.train()
    losses: list[float] = []
    for start in range(0, len(pairs), batch_size):
        chunk = pairs[start : start + batch_size]
        unique = sorted({i for i, _, _ in chunk} | {j for _, j, _ in chunk})
        where = {row: n for n, row in enumerate(unique)}
        batch = tokenizer.pad(
            {
                "input_ids": [encoded["input_ids"][i] for i in unique],
                "attention_mask": [encoded["attention_mask"][i] for i in unique],
            },
            return_tensors="pt",
        )
        vectors = embed(model, batch)
        left = vectors[[where[i] for i, _, _ in chunk]]
        right = vectors[[where[j] for _, j, _ in chunk]]
        target = torch.tensor([t for _, _, t in chunk], dtype=vectors.dtype)
        cosine = torch.nn.functional.cosine_similarity(left, right, dim=-1)
        loss = torch.nn.functional.mse_loss(cosine, target)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(body, 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()))
        if len(losses) % 25 == 0:
            log.debug(
                "contrastive step",
                step=len(losses),
                of=steps,
                loss=round(float(np.mean(losses[-25:])), 4),
            )
    seconds = time.perf_counter() - started
    log.info("contrastive tuning", pairs=len(pairs), steps=steps, seconds=round(seconds))
    return {
        "contrastive_pairs": float(len(pairs)),
        "contrastive_first_loss": float(np.mean(losses[: max(1, steps // 10)])),
        "contrastive_last_loss": float(np.mean(losses[-max(1, steps // 10) :])),
        "contrastive_seconds": seconds,
    }

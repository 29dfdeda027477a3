"""The pair-aware classifier: the relation is read at the markers, not from the sentence.

A sentence classifier sees "[A] Seoul [/A] and Washington condemned [B] Pyongyang [/B]"
and "[A] Seoul [/A] and [B] Washington [/B] condemned Pyongyang" as near-identical
sentences and gives both the same label. Here the encoder's hidden states at the ``[A]``
and ``[B]`` opening markers (the mean over their word pieces, "[", "a", "]") are
concatenated with the mean-pooled sentence vector and fed to the head (entity-start
pooling, Baldini Soares et al. 2019), so the pair itself decides which states are read.
A side without a marker (one-side or bare input) is read as a learned "absent" vector,
so the same model serves marked, one-side and bare text.

The marker search is tensor arithmetic on ``input_ids`` inside ``forward``, so it is
traced into the ONNX graph: the serving engine feeds token ids as before and never
needs to know where the markers are. Imports torch: load it only where torch is present
(training, export), never from the engine.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from relwatch.classify.markers import A_OPEN, B_OPEN
from relwatch.core.errors import ModelLoadError

HEAD_WEIGHTS = "pair_head.safetensors"
HEAD_CONFIG = "pair_head.json"
POOLINGS = ("cls", "entity-start")


def marker_ids(tokenizer: Any) -> dict[str, list[int]]:
    """Word-piece ids of the opening markers (``[A]`` is "[", "a", "]" in BERT's vocabulary)."""
    out = {}
    for side, marker in (("a", A_OPEN), ("b", B_OPEN)):
        ids = tokenizer(marker, add_special_tokens=False)["input_ids"]
        if not ids:
            raise ModelLoadError(f"the tokenizer maps {marker!r} to no tokens")
        out[side] = [int(i) for i in ids]
    if out["a"] == out["b"]:
        raise ModelLoadError("the tokenizer cannot tell the [A] and [B] markers apart")
    return out


class PairClassifier(nn.Module):
    """Encoder + entity-start head: logits from [h(A-marker); h(B-marker); mean(h)]."""

    def __init__(
        self,
        encoder: nn.Module,
        markers: dict[str, list[int]],
        num_labels: int,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.encoder = encoder
        hidden = int(encoder.config.hidden_size)
        self.markers = {side: list(ids) for side, ids in markers.items()}
        self.register_buffer("a_ids", torch.tensor(markers["a"], dtype=torch.long), False)
        self.register_buffer("b_ids", torch.tensor(markers["b"], dtype=torch.long), False)
        self.absent = nn.Parameter(torch.zeros(2, hidden))
        self.dropout = float(dropout)
        self.head = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(3 * hidden, hidden),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, num_labels),
        )
        self.num_labels = num_labels

    @staticmethod
    def _side(
        hidden: torch.Tensor, ids: torch.Tensor, pattern: torch.Tensor, absent: torch.Tensor
    ) -> torch.Tensor:
        """Mean state over the first occurrence of ``pattern`` in each row, else ``absent``.

        Static slices only (no shape arithmetic), so the graph traces for any length.
        """
        k = int(pattern.shape[0])
        match = ids == pattern[0]
        if k > 1:
            match = match[:, : -(k - 1)]
            for j in range(1, k):
                stop = j - (k - 1)
                window = ids[:, j:stop] if stop < 0 else ids[:, j:]
                match = match & (window == pattern[j])
            pad = torch.zeros_like(ids[:, : k - 1], dtype=torch.bool)
            match = torch.cat([match, pad], dim=1)
        hits = match.to(hidden.dtype)
        found = hits.sum(dim=1, keepdim=True) > 0
        first = hits.argmax(dim=1, keepdim=True)  # the first occurrence
        steps = torch.arange(k, device=ids.device).unsqueeze(0)
        last = ids.shape[1] - 1
        index = torch.clamp(first + steps, max=last)
        picked = torch.gather(hidden, 1, index.unsqueeze(-1).expand(-1, -1, hidden.shape[-1])).mean(
            dim=1
        )
        return torch.where(found, picked, absent.unsqueeze(0))

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        return self.head(self.features(input_ids, attention_mask, token_type_ids))

    def features(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """What the head reads: [h(A-marker); h(B-marker); mean(h)]."""
        inputs = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None:
            inputs["token_type_ids"] = token_type_ids
        hidden = self.encoder(**inputs).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        mean = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
        a = self._side(hidden, input_ids, self.a_ids, self.absent[0])
        b = self._side(hidden, input_ids, self.b_ids, self.absent[1])
        return torch.cat([a, b, mean], dim=-1)

    def head_parameters(self) -> list[nn.Parameter]:
        return [self.absent, *self.head.parameters()]

    def save(self, out_dir: Path) -> None:
        """Encoder via ``save_pretrained``; head weights and marker ids beside it."""
        from safetensors.torch import save_file

        out_dir = Path(out_dir)
        self.encoder.save_pretrained(out_dir)
        state = {
            k: v.detach().contiguous()
            for k, v in self.state_dict().items()
            if not k.startswith("encoder.")
        }
        save_file(state, str(out_dir / HEAD_WEIGHTS))
        (out_dir / HEAD_CONFIG).write_text(
            json.dumps(
                {
                    "pooling": "entity-start",
                    "markers": self.markers,
                    "num_labels": self.num_labels,
                    "dropout": self.dropout,
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )

    @classmethod
    def load(cls, model_dir: Path) -> PairClassifier:
        """The model a trainer saved with :meth:`save` (eval mode)."""
        from safetensors.torch import load_file
        from transformers import AutoModel

        model_dir = Path(model_dir)
        for name in (HEAD_CONFIG, HEAD_WEIGHTS):
            if not (model_dir / name).is_file():
                raise ModelLoadError(f"{model_dir}: {name} is missing (entity-start head)")
        config = json.loads((model_dir / HEAD_CONFIG).read_text(encoding="utf-8"))
        encoder = AutoModel.from_pretrained(model_dir, add_pooling_layer=False)
        model = cls(encoder, config["markers"], int(config["num_labels"]), config["dropout"])
        missing, unexpected = model.load_state_dict(
            load_file(str(model_dir / HEAD_WEIGHTS)), strict=False
        )
        head_missing = [k for k in missing if not k.startswith("encoder.")]
        if head_missing or unexpected:
            raise ModelLoadError(
                f"{model_dir}: head weights do not fit (missing {head_missing}, "
                f"unexpected {unexpected})"
            )
        return model.eval()


def new_pair_model(base: str, tokenizer: Any, num_labels: int, dropout: float) -> PairClassifier:
    """A fresh head on the pretrained encoder ``base``."""
    from transformers import AutoModel

    encoder = AutoModel.from_pretrained(base, add_pooling_layer=False)
    return PairClassifier(encoder, marker_ids(tokenizer), num_labels, dropout)

"""Labelled examples: loaders, a generic importer, content hashes and leak-free splits.

Every set in the shared data directory means something slightly different by its labels,
so each loader maps to the project's three classes exactly as ``DATASETS.md`` says and
tags every example with the set it came from: evaluation is reported per set, because a
pooled figure hides a set whose "neutral" disagrees with the others.

Splits are assigned by hashing the *normalised sentence*, not the row: the same sentence
(directed_sentiment repeats 400 test sentences in train with other pairs) always lands in
the same split, the assignment never depends on file order, and adding data later does not
move old sentences between splits.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from relwatch.classify.markers import format_input
from relwatch.core.errors import DataError
from relwatch.core.jsonl import MAX_ROW_BYTES, JsonlReport, iter_jsonl
from relwatch.core.models import LABELS

Span = tuple[int, int]
SPLITS = ("train", "validation", "test")

# Mappings from DATASETS.md (source label -> project label).
CAMEO_PENTA = {0: "neutral", 1: "cooperation", 2: "cooperation", 3: "conflict", 4: "conflict"}
KEEP_IT_LOCAL = {0: "neutral", 1: "conflict", 2: "conflict", 3: "cooperation", 4: "cooperation"}
DIRECTED = {0: "neutral", 1: "cooperation", 2: "cooperation", 3: "conflict", 4: "conflict"}
DIRECTED_DIRECTION = {0: None, 1: "a->b", 2: "b->a", 3: "a->b", 4: "b->a"}
SEED = {0: "conflict", 1: "cooperation"}
NEWSMTSC = {2: "conflict", 4: "neutral", 6: "cooperation"}  # auxiliary: sentiment, not relation

LABEL_ALIASES = {
    "conflict": "conflict",
    "negative": "conflict",
    "neg": "conflict",
    "hostile": "conflict",
    "neutral": "neutral",
    "none": "neutral",
    "irrelevant": "neutral",
    "cooperation": "cooperation",
    "cooperative": "cooperation",
    "positive": "cooperation",
    "pos": "cooperation",
    "coop": "cooperation",
}


@dataclass(frozen=True)
class Example:
    """One labelled (sentence, A, B) triple; ``source``/``target`` are A and B."""

    text: str
    label: str
    dataset: str
    source: str | None = None
    target: str | None = None
    a_span: Span | None = None
    b_span: Span | None = None
    direction: str | None = None

    def __post_init__(self) -> None:
        if self.label not in LABELS:
            raise DataError(f"label {self.label!r} is not one of {LABELS}")

    @property
    def label_id(self) -> int:
        return LABELS.index(self.label)

    def model_input(self) -> str:
        """The text the model reads: the sentence with the pair marked when known."""
        return format_input(self.text, self.source, self.target, self.a_span, self.b_span)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Dataset:
    """A named, hashed collection of examples (one dataset *version*)."""

    name: str
    examples: list[Example]
    origin: str = ""
    info: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.examples)

    @property
    def digest(self) -> str:
        return content_hash(self.examples)

    def label_counts(self) -> dict[str, int]:
        counts = Counter(e.label for e in self.examples)
        return {label: counts.get(label, 0) for label in LABELS}


# --------------------------------------------------------------------------- hashing


def normalize_sentence(text: str) -> str:
    """Key for "the same sentence": case, accents, brackets and spacing ignored."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"\[/?[ab]\]", " ", text)  # our own markers
    text = re.sub(r"[\[\]]", "", text)  # directed_sentiment's entity brackets
    text = re.sub(r"[’‘`´]", "'", text)
    return re.sub(r"\s+", " ", text).strip()


def content_hash(examples: Iterable[Example]) -> str:
    """SHA-256 over the canonical rows, order-independent: same content, same hash."""
    rows = sorted(
        json.dumps(
            [e.dataset, e.text, e.label, e.source, e.target, e.a_span, e.b_span, e.direction],
            ensure_ascii=False,
        )
        for e in examples
    )
    digest = hashlib.sha256()
    for row in rows:
        digest.update(row.encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


# --------------------------------------------------------------------------- splits


def split_of(text: str, *, seed: int = 13, validation: float = 0.15, test: float = 0.15) -> str:
    """The split a sentence belongs to, from a hash of its normalised text and the seed."""
    key = f"{seed}:{normalize_sentence(text)}".encode()
    unit = int.from_bytes(hashlib.sha256(key).digest()[:8], "big") / 2**64
    if unit < test:
        return "test"
    if unit < test + validation:
        return "validation"
    return "train"


# Sets whose held-out share differs from the run's fractions: the bundled every-pair sets are
# small and pair-level, so 30% of their sentences (about 300 and 180 pairs) are held out.
SPLIT_FRACTIONS: dict[str, tuple[float, float]] = {
    "pair_contrast": (0.15, 0.30),
    "market_news": (0.15, 0.30),
    # Training-only: it teaches a class of verbs, and bench/reversals.py (never trained on)
    # measures whether that helped; every fold of bench/cv.py trains on all of it.
    "undoings": (0.0, 0.0),
}


def split_examples(
    examples: Sequence[Example], *, seed: int = 13, validation: float = 0.15, test: float = 0.15
) -> dict[str, list[Example]]:
    """Deterministic train/validation/test with no sentence in two splits."""
    if not (0 <= validation < 1 and 0 <= test < 1 and validation + test < 1):
        raise ValueError("validation and test fractions must be in [0, 1) and sum below 1")
    out: dict[str, list[Example]] = {name: [] for name in SPLITS}
    for example in examples:
        out[split_of(example.text, seed=seed, validation=validation, test=test)].append(example)
    return out


def split_dataset(
    dataset: Dataset, *, seed: int = 13, validation: float = 0.15, test: float = 0.15
) -> dict[str, list[Example]]:
    """:func:`split_examples` with the set's own fractions where ``SPLIT_FRACTIONS`` has them."""
    validation, test = SPLIT_FRACTIONS.get(dataset.name, (validation, test))
    return split_examples(dataset.examples, seed=seed, validation=validation, test=test)


# --------------------------------------------------------------------------- file helpers


def _read_lines(path: Path) -> Iterator[tuple[int, str]]:
    if not path.is_file():
        raise FileNotFoundError(f"data file not found: {path}")
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if len(line) > MAX_ROW_BYTES:
                raise DataError(f"{path}:{number}: line over the {MAX_ROW_BYTES:,}-byte limit")
            line = line.rstrip("\n").rstrip("\r")
            if line.strip():
                yield number, line


def _jsonl_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Rows of a JSON-lines data file; training data is strict: the first bad line is an error."""
    report = JsonlReport()
    for number, row in iter_jsonl(path, report=report):
        if report.skipped:
            break
        yield number, row
    if report.skipped:
        line, why = report.errors[0]
        raise DataError(f"{path}:{line}: {why}")


def _int_label(raw: str, mapping: dict[int, Any], path: Path, line: int) -> int:
    try:
        value = int(float(raw))
    except ValueError:
        raise DataError(f"{path}:{line}: label {raw!r} is not a number") from None
    if value not in mapping:
        raise DataError(f"{path}:{line}: label {value} not in {sorted(mapping)}")
    return value


# --------------------------------------------------------------------------- shared sets


def _tag_positions(tokens: list[tuple[str, str]]) -> tuple[list[int] | None, list[int] | None]:
    """Token indices of the first source and first target chunk."""
    chunks: dict[str, list[int]] = {}
    current: str | None = None
    for index, (_, tag) in enumerate(tokens):
        role = tag[2:] if len(tag) > 2 and tag[1] == "-" else None
        if tag.startswith("B-") and role in {"S", "T"} and role not in chunks:
            chunks[role] = [index, index]
            current = role
        elif tag.startswith("I-") and role == current and role in chunks:
            chunks[role][1] = index
        else:
            current = None
    return chunks.get("S"), chunks.get("T")


def _align(text: str, tokens: list[str], first: int, last: int) -> Span | None:
    """Character span in ``text`` covering tokens[first..last] (tokens appear in order)."""
    position = 0
    start = end = None
    for index, token in enumerate(tokens):
        found = text.find(token, position)
        if found < 0:
            return None
        if index == first:
            start = found
        position = found + len(token)
        if index == last:
            end = position
            break
    if start is None or end is None:
        return None
    return (start, end)


def load_conflibert(data_dir: Path) -> Dataset:
    """ConfliBERT CAMEO penta-class news sentences (c. 2017-18); actors marked when known."""
    path = data_dir / "conflibert_cameo" / "train.tsv"
    ner = data_dir / "conflibert_cameo" / "ner_train.txt"
    tokens_by_key: dict[str, list[tuple[str, str]]] = {}
    if ner.is_file():
        sentence: list[tuple[str, str]] = []
        for raw in [*ner.read_text(encoding="utf-8").splitlines(), ""]:
            parts = raw.split()
            if len(parts) >= 2:
                sentence.append((parts[0], parts[-1]))
            elif sentence:
                key = re.sub(r"\W+", "", "".join(t for t, _ in sentence)).casefold()
                tokens_by_key[key] = sentence
                sentence = []
    examples = []
    for number, line in _read_lines(path):
        parts = line.split("\t")
        if len(parts) != 2:
            raise DataError(f"{path}:{number}: expected 'sentence<TAB>label'")
        text, raw = parts[0].strip(), parts[1]
        label = CAMEO_PENTA[_int_label(raw, CAMEO_PENTA, path, number)]
        a_span = b_span = None
        tagged = tokens_by_key.get(re.sub(r"\W+", "", text).casefold())
        if tagged:
            words = [t for t, _ in tagged]
            s_pos, t_pos = _tag_positions(tagged)
            a_span = _align(text, words, *s_pos) if s_pos else None
            b_span = _align(text, words, *t_pos) if t_pos else None
            if a_span and b_span and a_span[0] < b_span[1] and b_span[0] < a_span[1]:
                b_span = None
        examples.append(Example(text, label, "conflibert", a_span=a_span, b_span=b_span))
    return Dataset("conflibert", examples, origin=str(path))


_BRACKETS = re.compile(r"\[([^\[\]]+)\]")


def parse_bracketed(sentence: str, p: str, q: str) -> tuple[str, Span | None, Span | None]:
    """Remove directed_sentiment's ``[entity]`` brackets; return text and the p/q spans."""
    text_parts: list[str] = []
    spans: list[tuple[str, Span]] = []
    position = 0
    length = 0
    for match in _BRACKETS.finditer(sentence):
        before = sentence[position : match.start()]
        text_parts.append(before)
        length += len(before)
        inner = match.group(1)
        spans.append((inner, (length, length + len(inner))))
        text_parts.append(inner)
        length += len(inner)
        position = match.end()
    text_parts.append(sentence[position:])
    text = "".join(text_parts)
    spans = [(inner, _whole_words(text, span)) for inner, span in spans]
    a_span = b_span = None
    for inner, span in spans:
        if a_span is None and inner.strip() == p.strip():
            a_span = span
        elif b_span is None and inner.strip() == q.strip():
            b_span = span
    return text, a_span, b_span


def _whole_words(text: str, span: Span) -> Span:
    """Grow a clipped span (``[the United State]s``) to whole words."""
    start, end = span
    while start > 0 and text[start - 1].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum():
        end += 1
    return (start, end)


def load_directed_sentiment(
    data_dir: Path, files: Sequence[str] = ("train", "valid", "test")
) -> Dataset:
    """Directed sentiment between two bracketed entities (Park, Pan, Joo, ACL 2021)."""
    examples = []
    for name in files:
        path = data_dir / "directed_sentiment" / f"{name}.txt"
        for number, line in _read_lines(path):
            parts = line.split("\t")
            if len(parts) != 4:
                raise DataError(f"{path}:{number}: expected 'sentence<TAB>p<TAB>q<TAB>label'")
            sentence, p, q, raw = parts
            value = _int_label(raw, DIRECTED, path, number)
            text, a_span, b_span = parse_bracketed(sentence, p, q)
            examples.append(
                Example(
                    text.strip() if a_span is None and b_span is None else text,
                    DIRECTED[value],
                    "directed_sentiment",
                    source=p,
                    target=q,
                    a_span=a_span,
                    b_span=b_span,
                    direction=DIRECTED_DIRECTION[value],
                )
            )
    return Dataset("directed_sentiment", examples, origin=str(data_dir / "directed_sentiment"))


def load_keep_it_local(data_dir: Path) -> Dataset:
    """Keep-it-Local UN-document sentences with CAMEO QuadClass labels."""
    path = data_dir / "keep_it_local" / "en_quad_multiclass.tsv"
    examples = []
    for number, line in _read_lines(path):
        if number == 1 and line.lower().startswith("en\t"):
            continue
        text, _, raw = line.rpartition("\t")
        if not text:
            raise DataError(f"{path}:{number}: expected 'sentence<TAB>QuadClass'")
        label = KEEP_IT_LOCAL[_int_label(raw, KEEP_IT_LOCAL, path, number)]
        examples.append(Example(text.strip(), label, "keep_it_local"))
    return Dataset("keep_it_local", examples, origin=str(path))


def load_seed_sample(data_dir: Path) -> Dataset:
    """The original project's 91 country-relation sentences (0 bad, 1 good relation)."""
    path = data_dir / "seed_sample" / "sentiment_train.tsv"
    if not path.is_file():
        raise FileNotFoundError(f"data file not found: {path}")
    examples = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        for row in reader:
            text = (row.get("sentence") or "").strip()
            if not text:
                continue
            value = _int_label(row.get("sentiment") or "", SEED, path, reader.line_num)
            examples.append(Example(text, SEED[value], "seed_sample"))
    return Dataset("seed_sample", examples, origin=str(path))


def load_newsmtsc(data_dir: Path, files: Sequence[str] = ("train",)) -> Dataset:
    """NewsMTSC single-target sentiment (auxiliary only: sentiment toward a person)."""
    examples = []
    for name in files:
        path = data_dir / "newsmtsc" / f"{name}.jsonl"
        for number, row in _jsonl_rows(path):
            text = row.get("sentence_normalized", "")
            for target in row.get("targets", []):
                value = _int_label(str(target.get("polarity")), NEWSMTSC, path, number)
                span = (int(target["from"]), int(target["to"]))
                valid = 0 <= span[0] < span[1] <= len(text)
                examples.append(
                    Example(
                        text,
                        NEWSMTSC[value],
                        "newsmtsc",
                        target=target.get("mention"),
                        b_span=span if valid else None,
                    )
                )
    return Dataset("newsmtsc", examples, origin=str(data_dir / "newsmtsc"))


def load_directed_contrast(data_dir: Path) -> Dataset:
    """directed_sentiment sentences labelled for two or more *different* pairs, with their
    neutral rows: the corpus's only same-sentence/different-pair evidence (13 sentences)."""
    rows = load_directed_sentiment(data_dir).examples
    by_sentence: dict[str, dict[tuple[Any, Any], Example]] = {}
    for e in rows:
        by_sentence.setdefault(normalize_sentence(e.text), {}).setdefault((e.a_span, e.b_span), e)
    examples = [
        replace(e, dataset="directed_contrast")
        for pairs in by_sentence.values()
        if len(pairs) > 1 and all(a and b for a, b in pairs)
        for e in pairs.values()
    ]
    return Dataset("directed_contrast", examples, origin=str(data_dir / "directed_sentiment"))


PAIR_CONTRAST_FILE = "pair_contrast.jsonl"
MARKET_NEWS_FILE = "market_news.jsonl"
UNDOINGS_FILE = "undoings.jsonl"


def _bundled_lines(file: str) -> list[tuple[int, dict[str, Any]]]:
    """(line number, row) of a JSON-lines file in ``relwatch/classify/data``."""
    text = resources.files("relwatch.classify").joinpath("data", file)
    rows = []
    for number, line in enumerate(text.read_text("utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append((number, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise DataError(f"{file}:{number}: invalid JSON ({exc.msg})") from None
    return rows


def bundled_rows(file: str) -> list[dict[str, Any]]:
    """A bundled every-pair-labelled file as written: text, mentions (code, surface, span,
    role: actor / place / reporter) and every pair's label and direction."""
    return [row for _, row in _bundled_lines(file)]


def load_bundled_pairs(name: str, file: str) -> Dataset:
    """One example per labelled pair of a bundled file, both countries marked by the span of
    their first mention; ``name`` is the set's (and every example's) dataset name."""
    examples = []
    for number, row in _bundled_lines(file):
        try:
            text = row["text"]
            mentions = {m["code"]: m for m in row["mentions"]}
            for m in mentions.values():
                if text[m["span"][0] : m["span"][1]] != m["surface"]:
                    raise DataError(f"span {m['span']} of {m['code']} is not {m['surface']!r}")
            for pair in row["pairs"]:
                a, b = mentions[pair["a"]], mentions[pair["b"]]
                examples.append(
                    Example(
                        text,
                        pair["label"],
                        name,
                        source=a["surface"],
                        target=b["surface"],
                        a_span=(a["span"][0], a["span"][1]),
                        b_span=(b["span"][0], b["span"][1]),
                        direction=pair.get("direction"),
                    )
                )
        except DataError as exc:
            raise DataError(f"{file}:{number}: {exc}") from None
        except (KeyError, TypeError, IndexError) as exc:
            why = f"{type(exc).__name__}: {exc}"
            raise DataError(f"{file}:{number}: malformed row ({why})") from None
    return Dataset(name, examples, origin=f"relwatch.classify/data/{file}")


def pair_contrast_rows() -> list[dict[str, Any]]:
    """The bundled pair-contrast sentences as written (see :func:`bundled_rows`)."""
    return bundled_rows(PAIR_CONTRAST_FILE)


def market_news_rows() -> list[dict[str, Any]]:
    """The bundled economic-newswire sentences as written (see :func:`bundled_rows`)."""
    return bundled_rows(MARKET_NEWS_FILE)


def load_pair_contrast(data_dir: Path | None = None) -> Dataset:
    """relwatch's own multi-country sentences with *every* pair labelled (ships with the
    package): the same sentence holds cooperating, conflicting and merely co-mentioned
    pairs, so only a model that reads the markers can get them right."""
    return load_bundled_pairs("pair_contrast", PAIR_CONTRAST_FILE)


def load_market_news(data_dir: Path | None = None) -> Dataset:
    """relwatch's own trade and economic newswire sentences, every pair labelled (ships with
    the package): prices, company deals and trade statistics that merely name two countries
    are neutral; tariffs, duties and complaints conflict; state agreements and credits
    cooperation."""
    return load_bundled_pairs("market_news", MARKET_NEWS_FILE)


def undoings_rows() -> list[dict[str, Any]]:
    """The bundled undoing and withdrawal sentences as written (see :func:`bundled_rows`)."""
    return bundled_rows(UNDOINGS_FILE)


def load_undoings(data_dir: Path | None = None) -> Dataset:
    """relwatch's own sentences whose verb undoes what their noun names, every pair labelled
    (ships with the package): lifting sanctions or withdrawing troops is cooperation,
    severing ties or quitting an accord is conflict (CAMEO's yield and reduce-relations
    classes), beside the plain events they undo."""
    return load_bundled_pairs("undoings", UNDOINGS_FILE)


LOADERS = {
    "conflibert": load_conflibert,
    "keep_it_local": load_keep_it_local,
    "directed_sentiment": load_directed_sentiment,
    "directed_contrast": load_directed_contrast,
    "seed_sample": load_seed_sample,
    "newsmtsc": load_newsmtsc,
    "pair_contrast": load_pair_contrast,
    "market_news": load_market_news,
    "undoings": load_undoings,
}
# Sets that ship with the package and need no data directory.
BUNDLED = frozenset({"pair_contrast", "market_news", "undoings"})


def load_named(name: str, data_dir: Path | None) -> Dataset:
    """Load a shared or bundled set by name; unknown names get a clear error listing the choices."""
    if name not in LOADERS:
        raise DataError(f"unknown dataset {name!r}; choose from {', '.join(LOADERS)}")
    if data_dir is None and name not in BUNDLED:
        raise DataError(f"dataset {name!r} needs the data directory (RELWATCH_DATA_DIR)")
    return LOADERS[name](data_dir)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- generic import


def parse_label(raw: Any, where: str) -> str:
    """A label given by name (or a common alias) in user files."""
    key = str(raw).strip().casefold() if raw is not None else ""
    if key not in LABEL_ALIASES:
        raise DataError(f"{where}: label {raw!r} must be one of {', '.join(LABELS)}")
    return LABEL_ALIASES[key]


def _row_example(row: dict[str, Any], dataset: str, where: str) -> Example:
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        raise DataError(f"{where}: missing 'text'")
    label = parse_label(row.get("label"), where)
    source = row.get("source") or None
    target = row.get("target") or None
    return Example(
        text.strip(), label, dataset, source=source and str(source), target=target and str(target)
    )


def load_table(path: Path, dataset: str | None = None) -> Dataset:
    """Import a CSV, TSV or JSONL file: ``text``, ``label``, optional ``source``, ``target``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data file not found: {path}")
    name = dataset or path.stem
    suffix = path.suffix.lower()
    examples = []
    if suffix in {".jsonl", ".ndjson"}:
        for number, row in _jsonl_rows(path):
            examples.append(_row_example(row, name, f"{path}:{number}"))
    elif suffix in {".csv", ".tsv", ".tab"}:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle, delimiter="," if suffix == ".csv" else "\t")
            missing = {"text", "label"} - set(reader.fieldnames or [])
            if missing:
                raise DataError(f"{path}: header lacks column(s) {', '.join(sorted(missing))}")
            try:
                for row in reader:
                    examples.append(_row_example(row, name, f"{path}:{reader.line_num}"))
            except csv.Error as exc:
                raise DataError(f"{path}:{reader.line_num}: {exc}") from None
    elif suffix == ".json":
        return load_label_studio(path, dataset)
    else:
        raise DataError(f"{path}: unsupported file type {suffix!r} (use .csv, .tsv, .jsonl, .json)")
    if not examples:
        raise DataError(f"{path}: no labelled rows")
    return Dataset(name, examples, origin=str(path))


def load_label_studio(path: Path, dataset: str | None = None) -> Dataset:
    """Import a Label Studio JSON export: a ``choices`` result is the label; ``labels``
    regions tagged A/source and B/target become the pair's spans. The newest
    non-cancelled annotation of a task wins; tasks without one are skipped."""
    path = Path(path)
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"data file not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: invalid JSON at line {exc.lineno} ({exc.msg})") from None
    if not isinstance(tasks, list):
        raise DataError(f"{path}: expected a list of Label Studio tasks")
    name = dataset or path.stem
    examples = []
    for index, task in enumerate(tasks):
        where = f"{path}: task {task.get('id', index) if isinstance(task, dict) else index}"
        if not isinstance(task, dict):
            raise DataError(f"{where}: not an object")
        data = task.get("data") or {}
        text = data.get("text") or data.get("sentence")
        if not isinstance(text, str) or not text.strip():
            raise DataError(f"{where}: data has no 'text'")
        annotations = [
            a
            for a in task.get("annotations") or []
            if isinstance(a, dict) and not a.get("was_cancelled")
        ]
        if not annotations:
            continue
        annotation = max(
            annotations,
            key=lambda a: (
                str(a.get("updated_at") or ""),
                a["id"] if isinstance(a.get("id"), int) else 0,
            ),
        )
        label = None
        a_span = b_span = None
        for result in annotation.get("result") or []:
            value = result.get("value") or {}
            if result.get("type") == "choices" and value.get("choices"):
                label = parse_label(value["choices"][0], where)
            elif result.get("type") == "labels" and value.get("labels"):
                role = str(value["labels"][0]).casefold()
                span = (int(value["start"]), int(value["end"]))
                if role in {"a", "source", "country a"}:
                    a_span = span
                elif role in {"b", "target", "country b"}:
                    b_span = span
        if label is None:
            continue
        for span in (a_span, b_span):
            if span and not (0 <= span[0] < span[1] <= len(text)):
                raise DataError(f"{where}: region {span} is outside the text")
        examples.append(
            Example(
                text,
                label,
                name,
                source=data.get("source") or None,
                target=data.get("target") or None,
                a_span=a_span,
                b_span=b_span,
            )
        )
    if not examples:
        raise DataError(f"{path}: no annotated tasks with a relation choice")
    return Dataset(name, examples, origin=str(path))


def load_any(spec: str | Path, data_dir: Path | None = None) -> Dataset:
    """A shared set by name (``conflibert``) or a user file path."""
    text = str(spec)
    if text in LOADERS:
        return load_named(text, data_dir)
    path = Path(text)
    if not path.exists():
        raise DataError(f"{text}: not a shared set name ({', '.join(LOADERS)}) and no such file")
    if path.is_dir():
        raise DataError(f"{path} is a folder; give a CSV, TSV, JSONL or Label Studio JSON file")
    try:
        return load_table(path)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path} is not UTF-8 text (byte {exc.start}); convert it first, e.g. "
            f"iconv -f EUC-KR -t UTF-8 {path.name} > {path.stem}.utf8{path.suffix}"
        ) from None


def cap(examples: Sequence[Example], limit: int | None, *, seed: int = 13) -> list[Example]:
    """At most ``limit`` examples, chosen by a stable hash (same rows on every run)."""
    if limit is None or len(examples) <= limit:
        return list(examples)
    keyed = sorted(
        examples,
        key=lambda e: hashlib.sha256(f"{seed}:{e.text}:{e.source}:{e.target}".encode()).digest(),
    )
    return keyed[:limit]


def with_dataset(examples: Iterable[Example], name: str) -> list[Example]:
    return [replace(e, dataset=name) for e in examples]

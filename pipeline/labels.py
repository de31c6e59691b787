"""The labelling loop: choose paragraphs worth a human's time, import their labels, store them.

- :func:`select_for_labelling` picks the paragraphs of a scoring run that the model is least sure
  of, spread across articles, skipping paragraphs already labelled.
- :func:`read_label_file` reads labels from the file written by ``promoflag label`` (or a run's
  ``paragraphs.csv`` with an edited ``label`` column), Prodigy, doccano and Label Studio exports.
- :func:`check_labels` validates them (unknown labels, stale offsets, duplicates, conflicts) and
  :func:`store_labels` appends the good ones to ``corpus/labels/`` as a new file, never touching
  an existing one, under a lock so that two imports at once both land.

Every problem is reported with the file and line it came from; nothing is dropped silently.
"""

from __future__ import annotations

import csv
import fcntl
import json
import math
import os
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from .config import INFORMATIONAL, LABELS, LABELS_DIR, PROMOTIONAL
from .sources import read_article_at, read_label_files, text_hash

__all__ = [
    "LabelRow",
    "Problem",
    "select_for_labelling",
    "read_label_file",
    "check_labels",
    "store_labels",
    "known_keys",
]

_SYNONYMS = {"promotional": PROMOTIONAL, "promo": PROMOTIONAL, "informational": INFORMATIONAL, "info": INFORMATIONAL}


@dataclass
class LabelRow:
    """One label as read from a file, before checking."""

    text: str
    label: str
    file: str
    line: int
    article: str | None = None
    source: str | None = None
    start: int | None = None
    end: int | None = None
    annotator: str | None = None
    method: str = ""

    @property
    def key(self) -> str:
        if self.article is not None and self.start is not None:
            return f"{self.article}:{self.start}:{self.end}"
        return f"text:{text_hash(self.text)}"


@dataclass
class Problem:
    """Something wrong with one label row; ``kind`` is one of unknown-label, stale-offsets,
    duplicate, conflict, ignored, unreadable, or unchanged (a note: rows of a run table that
    keep the model's label)."""

    kind: str
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.kind}: {self.message}"


@dataclass
class CheckedLabels:
    """Labels that passed the checks, and every problem found."""

    rows: list[LabelRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


# -- choosing what to label -----------------------------------------------------------------

def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def known_keys(labels_dir: Path = LABELS_DIR) -> tuple[set[str], set[str]]:
    """Keys (``article:start:end``) and text hashes of every label already in the store."""
    frame = read_label_files(sorted(labels_dir.glob("*.jsonl")))
    if frame.empty:
        return set(), set()
    keys = {f"{a}:{s}:{e}" for a, s, e in zip(frame["article"], frame["start"], frame["end"]) if pd.notna(s)}
    hashes = set(frame["text_hash"].dropna())
    return keys, hashes


def _read_run(run_dir: Path) -> tuple[pd.DataFrame, dict]:
    meta_path = run_dir / "run.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    if (run_dir / "paragraphs.jsonl").is_file():
        frame = pd.read_json(run_dir / "paragraphs.jsonl", lines=True, dtype={"article": str})
    elif (run_dir / "paragraphs.csv").is_file():
        frame = pd.read_csv(run_dir / "paragraphs.csv", dtype={"article": str}, keep_default_na=False)
    else:
        raise FileNotFoundError(f"{run_dir} has no paragraphs.jsonl or paragraphs.csv: is it a `promoflag score` output?")
    return frame, meta


def select_for_labelling(
    run_dir: str | Path,
    *,
    n: int = 50,
    labels_dir: Path = LABELS_DIR,
    per_article: int | None = None,
) -> pd.DataFrame:
    """The ``n`` paragraphs of a run most worth labelling.

    Least certain first (score closest to the run's threshold, on the log-odds scale), at most
    ``per_article`` from one article in a first pass (default: enough to reach ``n`` if every
    article gives the same number), skipping paragraphs already in the label store.
    Returns the paragraph text, article, source file, offsets, score, the model's label and an
    empty ``label`` column for the human.
    """
    run_dir = Path(run_dir)
    frame, meta = _read_run(run_dir)
    threshold = float(meta.get("threshold", 0.5))
    keys, hashes = known_keys(labels_dir)
    frame = frame[[
        f"{a}:{s}:{e}" not in keys and text_hash(t) not in hashes
        for a, s, e, t in zip(frame["article"], frame["start"], frame["end"], frame["text"])
    ]].copy()
    frame["uncertainty"] = [abs(_logit(s) - _logit(threshold)) for s in frame["score"]]
    frame = frame.sort_values("uncertainty", kind="stable")
    articles = max(frame["article"].nunique(), 1)
    cap = per_article or max(1, math.ceil(n / articles))
    chosen, taken = [], {}
    for index, article in zip(frame.index, frame["article"]):
        if taken.get(article, 0) < cap:
            chosen.append(index)
            taken[article] = taken.get(article, 0) + 1
        if len(chosen) == n:
            break
    if len(chosen) < n:  # few articles: fill up with the next least certain
        rest = [i for i in frame.index if i not in set(chosen)]
        chosen += rest[: n - len(chosen)]
    picked = frame.loc[chosen]
    sources = meta.get("sources", {})
    return pd.DataFrame({
        "article": picked["article"].to_numpy(),
        "source": [sources.get(a, "") for a in picked["article"]],
        "paragraph": picked["paragraph"].to_numpy(),
        "start": picked["start"].to_numpy(),
        "end": picked["end"].to_numpy(),
        "score": picked["score"].to_numpy(),
        "model_label": picked["label"].to_numpy(),
        "text": picked["text"].to_numpy(),
        "label": "",
    })


# -- reading label files --------------------------------------------------------------------

def _normalise_label(value) -> str | None:
    if isinstance(value, str):
        return _SYNONYMS.get(value.strip().lower())
    return None


def _int_or_none(value) -> int | None:
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return None
    return int(value)


def _rows_from_table(records: Iterable[tuple[int, dict]], file: str, method: str) -> Iterable[LabelRow | Problem]:
    for line, record in records:
        raw = record.get("label")
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue  # not labelled yet
        yield LabelRow(
            text=str(record.get("text", "")), label=str(raw), file=file, line=line,
            article=str(record["article"]) if record.get("article") not in (None, "") else None,
            source=record.get("source") or None,
            start=_int_or_none(record.get("start")), end=_int_or_none(record.get("end")),
            annotator=record.get("annotator") or None, method=method,
        )


def _prodigy(records, file: str) -> Iterable[LabelRow | Problem]:
    for line, record in records:
        answer = record.get("answer")
        label = record.get("label")
        if answer == "ignore":
            yield Problem("ignored", file, line, "Prodigy answer 'ignore': not imported")
            continue
        if answer not in ("accept", "reject"):
            yield Problem("unknown-label", file, line, f"Prodigy answer {answer!r} is not accept, reject or ignore")
            continue
        normal = _normalise_label(label)
        if normal is None:
            yield LabelRow(str(record.get("text", "")), str(label), file, line, method="import:prodigy")
            continue
        if answer == "reject":
            normal = INFORMATIONAL if normal == PROMOTIONAL else PROMOTIONAL
        meta = record.get("meta") or {}
        yield LabelRow(str(record.get("text", "")), normal, file, line, article=meta.get("article"),
                       start=_int_or_none(meta.get("start")), end=_int_or_none(meta.get("end")),
                       annotator=record.get("_annotator_id"), method="import:prodigy")


def _one_label(text, values, file: str, line: int, method: str, disagreement: str) -> LabelRow | Problem:
    """A row from the labels given to one text, or a conflict when they disagree."""
    distinct = {(_normalise_label(v) or str(v)) for v in values}
    if len(distinct) > 1:
        return Problem("conflict", file, line, f"{disagreement}: {sorted(distinct)}")
    return LabelRow(str(text), distinct.pop(), file, line, method=method)


def _doccano(records, file: str) -> Iterable[LabelRow | Problem]:
    for line, record in records:
        labels = record.get("label", record.get("labels"))
        if isinstance(labels, str):
            labels = [labels]
        if labels:
            yield _one_label(record.get("text", ""), labels, file, line, "import:doccano",
                             "doccano row carries several labels")


def _label_studio(tasks, file: str) -> Iterable[LabelRow | Problem]:
    for line, task in tasks:
        text = (task.get("data") or {}).get("text", "")
        choices = [
            choice
            for annotation in task.get("annotations", [])
            if not annotation.get("was_cancelled")
            for result in annotation.get("result", [])
            for choice in (result.get("value") or {}).get("choices", [])
        ]
        if choices:
            yield _one_label(text, choices, file, line, "import:label-studio", "Label Studio annotators disagree")


def _jsonl_records(path: Path) -> tuple[list[tuple[int, dict]], list[Problem]]:
    records, problems = [], []
    for line, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            problems.append(Problem("unreadable", str(path), line, f"not JSON: {exc.msg}"))
            continue
        if isinstance(record, dict):
            records.append((line, record))
        else:
            problems.append(Problem("unreadable", str(path), line, "not a JSON object"))
    return records, problems


def _detect_format(records: Sequence[tuple[int, dict]]) -> str:
    sample = records[0][1] if records else {}
    if "answer" in sample:
        return "prodigy"
    if "annotations" in sample and "data" in sample:
        return "label-studio"
    if isinstance(sample.get("label"), list) or "labels" in sample:
        return "doccano"
    return "table"


def _edited_run_rows(path: Path, records: list[tuple[int, dict]]) -> tuple[list[tuple[int, dict]], list[Problem]]:
    """Rows of a run's ``paragraphs.csv`` whose label a person changed, with their sources.

    The run folder's ``paragraphs.jsonl`` holds the model's labels and ``run.json`` each
    article's source file; rows that keep the model's label are not imported (and are counted).
    """
    original_path, run_path = path.parent / "paragraphs.jsonl", path.parent / "run.json"
    if not original_path.is_file() or not run_path.is_file():
        return [], [Problem("unreadable", str(path), 1, "a run table needs the run's paragraphs.jsonl and run.json "
                            "beside it to tell edited labels from the model's")]
    sources = json.loads(run_path.read_text(encoding="utf-8")).get("sources", {})
    original = {}
    with open(original_path, encoding="utf-8") as handle:
        for raw in handle:
            row = json.loads(raw)
            original[(str(row["article"]), int(row["start"]))] = row["label"]
    edited, unchanged = [], 0
    for line, record in records:
        key = (str(record.get("article")), _int_or_none(record.get("start")))
        if original.get(key) == (record.get("label") or "").strip():
            unchanged += 1
            continue
        edited.append((line, {**record, "source": sources.get(str(record.get("article")))}))
    notes = [Problem("unchanged", str(path), 1, f"{unchanged} rows keep the model's label and were not imported")] if unchanged else []
    return edited, notes


def read_label_file(path: str | Path) -> tuple[list[LabelRow], list[Problem]]:
    """Read one label file in any supported format (detected from its content).

    CSV: the file of ``promoflag label``, a run's ``paragraphs.csv`` with an edited ``label``
    column, or doccano's ``text,label``. JSONL: the same tables, Prodigy (``text``, ``label``,
    ``answer``) or doccano (``text``, ``label`` list). JSON: Label Studio tasks.
    """
    path = Path(path)
    rows: list[LabelRow] = []
    problems: list[Problem] = []
    name = str(path)
    if path.suffix.lower() == ".csv":
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            records = [(number, row) for number, row in enumerate(reader, 2)]
        fields = reader.fieldnames or []
        if "start" not in fields:
            items = _rows_from_table(records, name, "import:doccano")
        elif "score" in fields and "model_label" not in fields:
            records, problems = _edited_run_rows(path, records)
            items = _rows_from_table(records, name, "import:run-table")
        else:
            items = _rows_from_table(records, name, "import:label-file")
    elif path.suffix.lower() == ".json":
        try:
            tasks = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            return [], [Problem("unreadable", name, exc.lineno, f"not JSON: {exc.msg}")]
        if isinstance(tasks, dict):
            tasks = [tasks]
        items = _label_studio([(i, t) for i, t in enumerate(tasks, 1) if isinstance(t, dict)], name)
    else:
        records, problems = _jsonl_records(path)
        fmt = _detect_format(records)
        readers = {"prodigy": _prodigy, "label-studio": _label_studio, "doccano": _doccano}
        items = readers[fmt](records, name) if fmt in readers else _rows_from_table(records, name, "import:run-table")
    for item in items:
        (problems if isinstance(item, Problem) else rows).append(item)
    return rows, problems


# -- checking ---------------------------------------------------------------------------------

def _read_source(source: str) -> str | None:
    """Current text of the article at ``source``: a file path, or ``file.jsonl:LINE``."""
    article = read_article_at(source)
    return article.text if article is not None else None


def check_labels(rows: Sequence[LabelRow], *, labels_dir: Path = LABELS_DIR) -> CheckedLabels:
    """Validate label rows: unknown labels, offsets that no longer match the article, duplicates
    (within the import or already stored) and conflicts (one paragraph given both labels)."""
    result = CheckedLabels()
    texts = {row.source: _read_source(row.source) for row in rows if row.source}
    stored = read_label_files(sorted(labels_dir.glob("*.jsonl")))
    stored_by_key: dict[str, tuple[str, str]] = {}
    for record in stored.to_dict("records") if not stored.empty else []:
        where = f"{record['file']}:{record['line']}"
        if record.get("start") is not None and not pd.isna(record.get("start")):
            stored_by_key[f"{record['article']}:{int(record['start'])}:{int(record['end'])}"] = (record["label"], where)
        if record.get("text_hash"):
            stored_by_key[f"text:{record['text_hash']}"] = (record["label"], where)
    seen: dict[str, LabelRow] = {}
    for row in rows:
        label = _normalise_label(row.label)
        if label is None:
            result.problems.append(Problem("unknown-label", row.file, row.line,
                                           f"label {row.label!r} is not one of {', '.join(LABELS)}"))
            continue
        row.label = label
        if row.source and row.start is not None:
            current = texts.get(row.source)
            if current is None or current[row.start:row.end] != row.text:
                result.problems.append(Problem("stale-offsets", row.file, row.line,
                                               f"text of {row.article} at {row.start}-{row.end} no longer matches"))
                continue
        keys = [row.key, f"text:{text_hash(row.text)}"]
        earlier = next((seen[k] for k in keys if k in seen), None)
        if earlier is not None:
            kind = "duplicate" if earlier.label == label else "conflict"
            result.problems.append(Problem(kind, row.file, row.line,
                                           f"same paragraph as {earlier.file}:{earlier.line} ({earlier.label})"))
            if kind == "conflict":
                result.rows = [r for r in result.rows if r is not earlier]
            continue
        before = next((stored_by_key[k] for k in keys if k in stored_by_key), None)
        if before is not None:
            kind = "duplicate" if before[0] == label else "conflict"
            result.problems.append(Problem(kind, row.file, row.line, f"already labelled {before[0]} in {before[1]}"))
            continue
        for k in keys:
            seen[k] = row
        result.rows.append(row)
    return result


# -- storing ----------------------------------------------------------------------------------

@contextmanager
def _locked(labels_dir: Path):
    labels_dir.mkdir(parents=True, exist_ok=True)
    with open(labels_dir / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def store_labels(
    rows: Sequence[LabelRow],
    *,
    labels_dir: Path = LABELS_DIR,
    annotator: str | None = None,
) -> Path | None:
    """Append checked labels to the store as a new file ``import-<time>-<n>.jsonl``.

    Written through a temporary file and renamed, under a lock on the store, so an interrupted
    import leaves nothing behind (a killed one leaves a temporary file, which is never read and
    which the next import removes) and concurrent imports both land. Returns the new file (None
    when there was nothing to store).
    """
    if not rows:
        return None
    now = datetime.now(timezone.utc)
    records = [
        {
            "article": row.article, "corpus": "imported", "source": row.source,
            "start": row.start, "end": row.end, "label": row.label, "style": None,
            "promo_start": None, "promo_end": None, "text": row.text, "text_hash": text_hash(row.text),
            "annotator": row.annotator or annotator or os.environ.get("USER", "unknown"),
            "method": row.method, "date": now.isoformat(timespec="seconds"),
            "import_file": row.file, "import_line": row.line,
        }
        for row in rows
    ]
    with _locked(labels_dir):
        # Only an import holding the lock writes a temporary file: any found now was left by an
        # import that was killed before its rename, and is not labels.
        for stale in labels_dir.glob(".import-*.tmp"):
            stale.unlink()
        stamp = now.strftime("%Y%m%dT%H%M%S")
        number = 1
        while (path := labels_dir / f"import-{stamp}-{number}.jsonl").exists():
            number += 1
        tmp = labels_dir / f".{path.name}.tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as handle:
                handle.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    return path

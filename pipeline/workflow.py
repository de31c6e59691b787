"""The train and evaluate workflows behind ``promoflag train`` and ``promoflag evaluate``.

A model records its *recipe* (sources and parameters) in ``model.json``; evaluating a model
re-runs that recipe inside grouped folds and with each source left out, so the figures describe
how the shipped model was made, on data its folds never saw. Results go to ``metrics.json`` and
``MODEL_CARD.md`` in the model directory, and a summary into ``model.json``.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.model_selection import GroupKFold

from .config import (
    BASE_C,
    BOOTSTRAP_RESAMPLES,
    CONTEXT_MASS,
    EXPERTS,
    INNER_FOLDS,
    PROJECT_ROOT,
    SOURCE_MASS,
)
from .evaluate import (
    cross_validate,
    leave_articles_out,
    leave_one_source_out,
    metrics_by_source,
    score_subset,
    seed_acceptance,
)
from .model import PromoModel, library_versions
from .sources import load_imported, load_sources
from .train import fit, prepare

__all__ = [
    "train_model",
    "evaluate_model",
    "compare_mixes",
    "evaluate_held_out_articles",
    "retrain_with_labels",
    "refresh_model_card",
    "write_model_card",
    "code_version",
]


def _log(verbose: bool, message: str) -> None:
    if verbose:
        print(message, flush=True)


def code_version() -> str:
    """The git commit the code runs from (with ``+dirty`` for local changes), if known."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT,
                                capture_output=True, text=True, timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "pipeline"], cwd=PROJECT_ROOT,
                               capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (commit or "unknown") + ("+dirty" if dirty else "")


def _fit_kwargs(recipe: dict) -> dict:
    """Arguments of :func:`pipeline.train.fit` that reproduce a recorded recipe (a recipe from
    before specialists existed had none; one from before ``context_mass`` weighed the context
    stage like the base classifier; one from before ``inner_folds`` kept articles whole)."""
    return {"folds": recipe.get("folds", 4), "C": recipe.get("C", 1.0), "source_mass": recipe.get("source_mass"),
            "context_mass": recipe.get("context_mass", recipe.get("source_mass")),
            "context": recipe.get("context", "logistic"), "experts": recipe.get("experts", {}),
            "inner_folds": recipe.get("inner_folds", "group")}


# What a model from before recipes were recorded was trained with.
_UNRECORDED_RECIPE = {"sources": ["team", "seeds"], "medquad_groups": 1500, "folds": 4}


def _model_recipe(model_dir: Path) -> tuple[dict, dict]:
    """A model directory's ``model.json`` and the recipe it records."""
    meta = json.loads((model_dir / "model.json").read_text(encoding="utf-8"))
    return meta, dict(meta.get("recipe", _UNRECORDED_RECIPE))


def _recipe_paragraphs(recipe: dict, sources: Sequence[str] | None = None, medquad_groups: int | None = None) -> pd.DataFrame:
    """The labelled paragraphs a recipe reads (or of ``sources``), from its corpus folder."""
    corpus_dir = Path(recipe["corpus_dir"]) if recipe.get("corpus_dir") else None
    return load_sources(
        list(sources or recipe["sources"]),
        corpus_dir=corpus_dir,
        medquad_groups=medquad_groups if medquad_groups is not None else recipe.get("medquad_groups"),
    )


def train_model(
    sources: Sequence[str],
    *,
    out: Path,
    corpus_dir: Path | None = None,
    folds: int = 4,
    medquad_groups: int | None = 1500,
    C: float = BASE_C,
    source_mass: dict[str, float] | None = None,
    context_mass: dict[str, float] | None = None,
    context: str = "auto",
    experts: dict[str, dict] | None = None,
    inner_folds: str = INNER_FOLDS,
    verbose: bool = True,
) -> tuple[PromoModel, Path]:
    """Train on the named sources and save the model directory.

    ``C`` is the base regression's inverse regularisation; ``source_mass`` caps the weight of
    external sources relative to the team corpus in the base classifier (default
    :data:`pipeline.config.SOURCE_MASS`), ``context_mass`` in the context stage and threshold
    (default :data:`pipeline.config.CONTEXT_MASS`);
    ``context`` names the context learner (``logistic``, ``boosted``, or ``auto``); ``experts``
    the specialist classifiers (default :data:`pipeline.config.EXPERTS`, ``{}`` for none);
    ``inner_folds`` what training's inner folds keep whole (``group`` or ``topic``, default
    :data:`pipeline.config.INNER_FOLDS`).
    """
    started = time.perf_counter()
    paragraphs = load_sources(sources, corpus_dir=corpus_dir, medquad_groups=medquad_groups)
    _log(verbose, f"Loaded {len(paragraphs)} labelled paragraphs from {', '.join(sources)}.")
    data = prepare(paragraphs)
    source_mass = dict(SOURCE_MASS if source_mass is None else source_mass)
    context_mass = dict(CONTEXT_MASS if context_mass is None else context_mass)
    experts = dict(EXPERTS if experts is None else experts)
    recipe = {"sources": list(sources), "medquad_groups": medquad_groups, "folds": folds,
              "C": C, "source_mass": source_mass, "context_mass": context_mass, "context": context,
              "experts": experts, "inner_folds": inner_folds}
    if corpus_dir is not None:
        recipe["corpus_dir"] = str(corpus_dir)
    model, oof = fit(data, **_fit_kwargs(recipe), meta={"recipe": recipe, "code_version": code_version()})
    oof["flagged"] = oof["oof_score"] >= model.threshold
    oof = oof.rename(columns={"oof_score": "score", "label": "truth"})
    model.meta["cv_metrics"] = {
        "note": "out-of-fold predictions of the training folds; the thresholds were chosen on them",
        "by_source": metrics_by_source(oof),
    }
    path = model.save(out)
    _log(verbose, f"Trained in {time.perf_counter() - started:.0f}s.")
    return model, path


def evaluate_model(
    model_dir: Path,
    *,
    sources: Sequence[str] | None = None,
    folds: int = 5,
    loso: bool = True,
    medquad_groups: int | None = None,
    n_jobs: int = 1,
    verbose: bool = True,
) -> dict:
    """Measure a model's recipe; write ``metrics.json`` and ``MODEL_CARD.md`` beside it."""
    meta_path = model_dir / "model.json"
    meta, recipe = _model_recipe(model_dir)
    trained_on = list(recipe["sources"])
    evaluated = list(dict.fromkeys(trained_on + list(sources or [])))
    started = time.perf_counter()
    data = prepare(_recipe_paragraphs(recipe, evaluated, medquad_groups))
    fit_kwargs = _fit_kwargs(recipe)
    in_recipe = data.paragraphs["source"].isin(trained_on).to_numpy()
    _log(verbose, f"Grouped {folds}-fold cross-validation on {', '.join(trained_on)} ...")
    cv = cross_validate(data.subset(in_recipe), folds=folds, n_jobs=n_jobs, fit_kwargs=fit_kwargs)
    report: dict = {
        "model": str(model_dir),
        "recipe": recipe,
        "grouped_cv": {"folds": folds, "by_source": metrics_by_source(cv)},
    }
    if loso:
        _log(verbose, "Leave-one-source-out ...")
        held = leave_one_source_out(data, sources=evaluated, train_sources=trained_on, n_jobs=n_jobs,
                                    fit_kwargs=fit_kwargs)
        report["leave_one_source_out"] = {
            source: metrics_by_source(frame[frame["source"] == source]).get(source, {})
            for source, frame in held.groupby("held_out")
        }
        seeds = held[(held["held_out"] == "seeds") & (held["source"] == "seeds")]
        if len(seeds):
            report["seeds_held_out"] = seed_acceptance(seeds)
    report["summary"] = _summary(report)
    report["seconds"] = round(time.perf_counter() - started, 1)
    report["versions"] = library_versions()
    report["code_version"] = code_version()
    (model_dir / "metrics.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    meta["evaluation"] = report["summary"]
    meta_path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    write_model_card(model_dir, meta, report)
    return report


def evaluate_held_out_articles(
    model_dir: Path,
    groups: Sequence[Sequence[str]],
    *,
    medquad_groups: int | None = None,
    verbose: bool = True,
) -> dict:
    """Train the model's recipe without the articles matching each group of globs in turn and
    measure it on them; write the figures to ``held_out_articles.json`` beside the model.

    With several groups (for example one per writing round) every group is scored by a model
    trained on everything else, and the figures are given for each group and for all their
    predictions pooled: a steadier measurement than any one group gives.
    """
    _, recipe = _model_recipe(model_dir)
    started = time.perf_counter()
    data = prepare(_recipe_paragraphs(recipe, medquad_groups=medquad_groups))
    parts, by_group = [], {}
    for group in groups:
        _log(verbose, f"Training without the articles matching {', '.join(group)} ...")
        scored = leave_articles_out(data, group, fit_kwargs=_fit_kwargs(recipe))
        parts.append(scored)
        by_group[",".join(group)] = {"articles": int(scored["article"].nunique()), "by_source": metrics_by_source(scored)}
    pooled = pd.concat(parts, ignore_index=True)
    report = {
        "model": str(model_dir),
        "recipe": recipe,
        "held_out_articles": [",".join(group) for group in groups],
        "articles": int(pooled["article"].nunique()),
        "by_source": metrics_by_source(pooled),
        **({"by_group": by_group} if len(groups) > 1 else {}),
        "seconds": round(time.perf_counter() - started, 1),
        "code_version": code_version(),
    }
    (model_dir / "held_out_articles.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def compare_mixes(
    mixes: Sequence[Sequence[str]],
    *,
    medquad_groups: int | None = 1500,
    recipe: dict | None = None,
    n_jobs: int = 1,
    verbose: bool = True,
) -> dict:
    """For each candidate training mix, how well it does on each source left out of training.

    A source outside the mix is predicted by a model trained on the whole mix; a source inside
    it by a model trained on the rest of the mix. Every model is trained as ``recipe`` says
    (a model's recorded recipe; its sources are replaced by the mix). This is how the shipped
    mix was chosen: unseen sources are what users bring.
    """
    fit_kwargs = _fit_kwargs(recipe or {})
    everything = sorted({s for mix in mixes for s in mix})
    if len(everything) < 2:
        raise ValueError(
            f"mixes name only {', '.join(everything) or 'no source'}: a comparison leaves each source out of "
            "training and tests on it, so the mixes must name at least two sources in all (e.g. 'team,seeds;team')"
        )
    data = prepare(load_sources(everything, medquad_groups=medquad_groups))
    results: dict = {}
    for mix in mixes:
        _log(verbose, f"Mix {'+'.join(mix)} ...")
        held = leave_one_source_out(data, sources=everything, train_sources=list(mix), n_jobs=n_jobs,
                                    fit_kwargs=fit_kwargs)
        row = {}
        for source, frame in (held.groupby("held_out") if len(held) else ()):
            m = metrics_by_source(frame[frame["source"] == source]).get(source, {})
            row[source] = {k: m[k] for k in ("pr_auc", "pr_auc_ci95", "recall_at_precision_90", "flagged_share") if k in m}
            if "answer_level" in m:
                row[source]["answer_f1"] = m["answer_level"]["f1"]
                row[source]["answer_f1_ci95"] = m["answer_level"].get("f1_ci95")
            if source == "seeds":
                row[source]["acceptance_passed"] = seed_acceptance(frame[frame["source"] == source])["passed"]
        aucs = [row[s]["pr_auc"] for s in row if "pr_auc" in row[s]]
        row["mean_pr_auc_held_out"] = round(sum(aucs) / len(aucs), 4) if aucs else None
        results["+".join(mix)] = row
    return results


def retrain_with_labels(
    label_files: Sequence[Path],
    *,
    base_model: Path,
    out: Path,
    folds: int = 5,
    n_jobs: int = 1,
    verbose: bool = True,
) -> dict:
    """Train the base model's recipe plus newly imported labels, and compare the two recipes.

    Both recipes are cross-validated on the same grouped folds of the same data: the current
    recipe never trains on the new labels, the new one does. The new model (trained on
    everything) is written to ``out``; the base model is left alone.
    """
    _, recipe = _model_recipe(base_model)
    base = _recipe_paragraphs(recipe)
    imported = load_imported(label_files)
    if imported.empty:
        raise ValueError("the label files hold no labels")
    data = prepare(pd.concat([base, imported], ignore_index=True))
    fit_kwargs = _fit_kwargs(recipe)
    is_new = (data.paragraphs["source"] == "imported").to_numpy()
    groups = data.paragraphs["group"].to_numpy()
    splits = list(GroupKFold(n_splits=max(2, min(folds, len(set(groups))))).split(groups, groups=groups))
    _log(verbose, f"Comparing recipes on {len(splits)} grouped folds ({int(is_new.sum())} new labels) ...")

    def run(train_idx, with_new: bool) -> pd.DataFrame:
        mask = np.zeros(len(groups), dtype=bool)
        mask[train_idx] = True
        if not with_new:
            mask &= ~is_new
        model, _ = fit(data.subset(mask), **fit_kwargs)
        test = np.ones(len(groups), dtype=bool)
        test[train_idx] = False
        return score_subset(model, data, test)

    jobs = [(train, flag) for train, _ in splits for flag in (False, True)]
    parts = Parallel(n_jobs=n_jobs)(delayed(run)(train, flag) for train, flag in jobs)
    current = pd.concat(parts[0::2], ignore_index=True)
    proposed = pd.concat(parts[1::2], ignore_index=True)

    def right(frame: pd.DataFrame) -> int:
        new = frame[frame["source"] == "imported"]
        return int((new["flagged"] == new["truth"].astype(bool)).sum())

    comparison = {
        "folds": len(splits),
        "current": metrics_by_source(current),
        "with_new_labels": metrics_by_source(proposed),
        "new_labels": int(is_new.sum()),
        "new_labels_right": {"current": right(current), "with_new_labels": right(proposed)},
    }
    model, _ = fit(data, **fit_kwargs)
    model.meta["recipe"] = {**recipe, "labels": [str(p) for p in label_files]}
    model.meta["based_on"] = str(base_model)
    model.meta["code_version"] = code_version()
    model.meta["comparison"] = comparison
    model.save(out)
    return comparison


def comparison_table(comparison: dict) -> str:
    """Side-by-side text table of :func:`retrain_with_labels` results."""
    lines = [f"{'source':10} {'metric':24} {'current':>9} {'with new':>9}"]
    for source in sorted(comparison["current"]):
        old, new = comparison["current"][source], comparison["with_new_labels"].get(source, {})
        for metric in ("pr_auc", "precision", "recall", "f1", "flagged_share"):
            if metric in old or metric in new:
                a, b = old.get(metric), new.get(metric)
                lines.append(f"{source:10} {metric:24} {'' if a is None else f'{a:.3f}':>9} {'' if b is None else f'{b:.3f}':>9}")
    right = comparison["new_labels_right"]
    lines.append(f"{'new labels':10} {'classified as labelled':24} {right['current']:>9} {right['with_new_labels']:>9}"
                 f"  (of {comparison['new_labels']}, out of fold)")
    return "\n".join(lines)


_HEADLINE = ("pr_auc", "pr_auc_ci95", "precision", "recall", "f1", "recall_at_precision_90",
             "recall_at_precision_90_ci95", "flagged_share")


def _headline(m: dict) -> dict:
    out = {k: m.get(k) for k in _HEADLINE if k in m}
    if "answer_level" in m:
        out["answer_f1"] = m["answer_level"]["f1"]
        out["answer_f1_ci95"] = m["answer_level"].get("f1_ci95")
    return out


def _summary(report: dict) -> dict:
    """The headline figures of an evaluation, with 95% intervals from resampling whole articles
    (Webis: products)."""
    out: dict = {}
    for source, m in report["grouped_cv"]["by_source"].items():
        out[f"cv/{source}"] = _headline(m)
    for source, m in report.get("leave_one_source_out", {}).items():
        out[f"held_out/{source}"] = _headline(m)
    if "seeds_held_out" in report:
        out["seeds_held_out_passed"] = report["seeds_held_out"]["passed"]
    return out


def _table(rows: dict) -> str:
    columns = ["pr_auc", "precision", "recall", "f1", "recall_at_precision_90", "answer_f1", "flagged_share"]
    lines = ["| split / source | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for name, m in rows.items():
        if not isinstance(m, dict):
            continue
        cells = [_figure(m, c) for c in columns]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _figure(m: dict, key: str) -> str:
    """A figure with its 95% interval when it has one: ``0.950 (0.941–0.958)``."""
    value, interval = m.get(key), m.get(f"{key}_ci95")
    if value is None:
        return ""
    return f"{value:.3f}" + (f" ({interval[0]:.3f}–{interval[1]:.3f})" if interval else "")


def _cell(row: dict, source: str, key: str) -> str:
    return _figure(row.get(source, {}), key)


_MEDQUAD_LIMIT = 0.01


def _mix_rule(mixes: dict) -> str:
    """The rule that picks the shipped mix, applied to the measured mixes."""
    share = {mix: row.get("medquad", {}).get("flagged_share") for mix, row in mixes.items()}
    eligible = [mix for mix, s in share.items() if s is not None and s <= _MEDQUAD_LIMIT]
    text = (
        f"Rule for the shipped mix: among the mixes that flag at most {_MEDQUAD_LIMIT:.0%} of MedQuAD when MedQuAD "
        "is left out (a model that flags NIH prose is useless to an editor), the best seed PR-AUC held out. "
    )
    too_many = [f"{mix} ({s:.1%})" for mix, s in share.items() if mix not in eligible and s is not None]
    if too_many:
        text += f"Over the limit: {', '.join(too_many)}. "
    if not eligible:
        return text + "No mix meets the limit."
    best = max(eligible, key=lambda mix: mixes[mix].get("seeds", {}).get("pr_auc", 0.0))
    return text + f"The rule picks **{best}**."


def _experts_text(meta: dict) -> str:
    experts = meta.get("params", {}).get("experts") or {}
    if not experts:
        return ""
    present = set(meta.get("training_data", {}).get("sources", {}))
    described = "; ".join(
        f"`{name}`, trained on {' and '.join(s for s in spec['sources'] if s in present or not present)} only"
        f"{' (sentences)' if spec.get('units') == 'sentences' else ''}, over "
        f"{'TF-IDF word and character n-grams of the raw text' if spec.get('features') == 'text' else 'the same features'}"
        f" (`expert-{name}.skops`)"
        for name, spec in experts.items()
    )
    return (f" Beside it, specialist regressions: {described}. The context stage reads "
            "their scores next to the general one and learns when to trust which.")


_SOURCE_KINDS = {
    "team": "web-style articles written by the team",
    "seeds": "the five seed articles",
    "webis": "Webis chatbot answers",
    "medquad": "NIH consumer-health text (MedQuAD)",
    "imported": "imported corrections",
}


def _sources_text(training_data: dict) -> str:
    """The training sources in words, for the model card: "A, B and C"."""
    kinds = [_SOURCE_KINDS.get(name, name) for name in training_data.get("sources", {})]
    if not kinds:
        return "unknown data"
    if len(kinds) == 1:
        return kinds[0]
    return f"{', '.join(kinds[:-1])} and {kinds[-1]}"


def _context_text(meta: dict) -> str:
    stage = meta.get("context_stage")
    if not stage:
        return "a logistic regression"
    scores = ", ".join(f"{name} {score:.3f}" for name, score in stage["out_of_fold_pr_auc"].items())
    read = f" over {len(stage['features'])} features (model format {meta.get('format_version')})" if "features" in stage else ""
    return f"learner: {stage['learner']}{read}, chosen by out-of-fold PR-AUC on the training data ({scores})"


def refresh_model_card(model_dir: Path) -> Path | None:
    """Rewrite ``MODEL_CARD.md`` from the model's ``model.json``, ``metrics.json`` and
    ``mixes.json``, so that a mix comparison run after the evaluation shows in the card; ``None``
    (and no card) when the model has not been evaluated."""
    metrics = model_dir / "metrics.json"
    if not metrics.is_file():
        return None
    meta = json.loads((model_dir / "model.json").read_text(encoding="utf-8"))
    return write_model_card(model_dir, meta, json.loads(metrics.read_text(encoding="utf-8")))


def write_model_card(model_dir: Path, meta: dict, report: dict) -> Path:
    """Write ``MODEL_CARD.md``: what the model is, what it was trained on, how good it is."""
    data = meta.get("training_data", {})
    counts = "\n".join(
        f"| {name} | {c['articles']} | {c['paragraphs']} | {c['promotional']} |"
        for name, c in data.get("sources", {}).items()
    )
    seeds = report.get("seeds_held_out")
    seed_text = ""
    if seeds:
        seed_text = (
            "\n## Seed articles, held out of training\n\n"
            + "\n".join(f"- {name}: {'flagged' if ok else 'NOT flagged'}" for name, ok in seeds["required_flagged"].items())
            + "\n"
            + "\n".join(f"- paragraphs flagged in {a}: {n}" for a, n in seeds["flagged_in_clean_articles"].items())
            + "\n"
        )
    mixes_path = model_dir / "mixes.json"
    mix_text = ""
    if mixes_path.is_file():
        mixes = json.loads(mixes_path.read_text(encoding="utf-8"))
        lines = ["| training mix | seeds PR-AUC | seed acceptance | team PR-AUC | Webis answer F1 | MedQuAD flagged |",
                 "|---|---|---|---|---|---|"]
        for mix, row in mixes.items():
            cells = [_cell(row, source, key) for source, key in
                     (("seeds", "pr_auc"), ("team", "pr_auc"), ("webis", "answer_f1"), ("medquad", "flagged_share"))]
            passed = row.get("seeds", {}).get("acceptance_passed")
            cells.insert(1, "" if passed is None else ("passed" if passed else "failed"))
            lines.append(f"| {mix} | " + " | ".join(cells) + " |")
        mix_text = (
            "\n## Choice of training mix (`promoflag evaluate --mixes`, `mixes.json`)\n\n"
            "Each figure is measured on a source left out of training (trained on the rest of the mix, or on the "
            "whole mix when the source is not in it):\n\n" + "\n".join(lines) + "\n\n" + _mix_rule(mixes) + "\n"
        )
    card = f"""# promoflag model card: `{model_dir.name}`

Scores each paragraph of a health article as *promotional* or *informational* (see the labelling
guideline in `corpus/README.md`). spaCy rule/lookup preprocessing (`nlp/`), a calibrated logistic
regression over lemma n-grams, character n-grams and promotional-cue counts for paragraphs and
sentences (`base.skops`), and a context stage over neighbouring paragraphs (`context.skops`;
{_context_text(meta)}).{_experts_text(meta)}

- Created: {meta.get('created')}; code version {meta.get('code_version')}
- Decision threshold: {meta.get('threshold'):.4f} (maximises F1 on out-of-fold predictions of the training data);
  sentence threshold {meta.get('sentence_threshold'):.4f}
- Trained on: {', '.join(meta.get('recipe', {}).get('sources', []))} (recipe: `{json.dumps(meta.get('recipe', {}))}`)
- Training data fingerprint (SHA-256): `{data.get('sha256')}`
- Libraries: {json.dumps(meta.get('versions', {}))}

## Training data

| source | articles | paragraphs | promotional |
|---|---|---|---|
{counts}

Sources: the team corpus (`corpus/`, written and labelled by the promoflag team); the five seed
articles (`../shared/seeds`, labels in `corpus/labels/seeds.jsonl`); Webis Generated Native Ads 2024,
Schmidt et al., WWW '24 Companion, doi:10.1145/3589335.3651489 (MIT); MedQuAD, Ben Abacha &
Demner-Fushman, BMC Bioinformatics 2019 (CC BY 4.0). Only the sources named above were used.

## Evaluation (`promoflag evaluate`, {report['grouped_cv']['folds']} grouped folds; run took {report.get('seconds')} s)

Grouped cross-validation (`cv/…`) keeps every article, and for Webis every advertised product with
its answers and their ad-free twins, inside one fold. Leave-one-source-out (`held_out/…`) trains on
the other sources and tests on the one named. Precision, recall and F1 are at the threshold each
fold's model chose on its own training part; PR-AUC and recall at precision 0.90 are
threshold-free. For Webis, `answer_f1` counts an answer as promotional when any paragraph is.
In parentheses: 95% intervals from resampling whole articles (Webis: products), {BOOTSTRAP_RESAMPLES:,}
times; two figures whose intervals overlap widely are not told apart by this data.

{_table(report['summary'])}
{seed_text}{mix_text}
## Limits

- English only; trained on {_sources_text(data)}.
- Promotion without any of the usual signals (no call to action, no brand-like name, no
  second person) is hard to see; so is a single slipped-in product sentence in a long paragraph.
- Navigation residue and related-article links count as promotional by the guideline.
"""
    path = model_dir / "MODEL_CARD.md"
    path.write_text(card, encoding="utf-8")
    return path


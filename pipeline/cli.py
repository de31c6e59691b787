"""The ``promoflag`` command line: ``score``, ``train``, ``evaluate``, ``label``, ``import-labels``.

Exit codes (also in the README):

- 0: done, every input read;
- 1: ``--fail-on-flag`` was given and at least one paragraph was flagged;
- 2: usage error, a path that does not exist, no articles found, or an unusable model;
- 3: done, but some inputs could not be read (listed in ``articles.csv`` with the reason);
- 4: ``score`` stopped part-way (a worker died, the cluster went away, an unexpected error); the
  batches already written are kept and ``--resume`` finishes the run;
- 130: interrupted (Ctrl-C); ``--resume`` finishes the run.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from .config import BASE_C, BATCH_ARTICLES, DEFAULT_MODEL_DIR, INNER_FOLDS, MODELS_DIR

__all__ = ["main", "EXIT_OK", "EXIT_FLAGGED", "EXIT_USAGE", "EXIT_UNREADABLE", "EXIT_STOPPED", "EXIT_INTERRUPTED"]

EXIT_OK, EXIT_FLAGGED, EXIT_USAGE, EXIT_UNREADABLE, EXIT_STOPPED, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130


def _fail(message: str) -> int:
    print(f"promoflag: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _threshold(value: str) -> float:
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError(f"threshold must be between 0 and 1, got {value}")
    return number


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="promoflag",
        description="Flag the promotional paragraphs hidden in health and medical articles.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    score = sub.add_parser("score", help="score articles and write tables and an HTML report")
    score.add_argument("paths", nargs="+", help="article files or folders (searched recursively)")
    score.add_argument("--out", required=True, help="output folder")
    score.add_argument("--model", default=None, help="model directory (default: the default model, see `promoflag models`)")
    score.add_argument("--threshold", type=_threshold, default=None, help="decision threshold (default: the model's)")
    score.add_argument("--format", default="all", help="all, or a comma list of jsonl,csv,html (default: all)")
    score.add_argument("--fail-on-flag", action="store_true", help="exit 1 when anything is flagged")
    score.add_argument("--max-bytes", type=int, default=None, help="skip files larger than this many bytes")
    score.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores; 1: this process)")
    score.add_argument("--backend", choices=("loky", "dask"), default="loky",
                       help="where batches run: local processes (loky) or a Dask cluster (needs promoflag[dask])")
    score.add_argument("--scheduler", default=None, help="with --backend dask: scheduler address, e.g. tcp://host:8786")
    score.add_argument("--batch-size", type=int, default=None,
                       help=f"articles scored together (default {BATCH_ARTICLES}); memory grows with it")
    score.add_argument("--resume", action="store_true",
                       help="continue the run in --out: skip articles already scored (by content hash)")
    score.add_argument("--quiet", action="store_true", help="no progress bar or summary")

    train = sub.add_parser("train", help="train a model from the labelled corpus")
    train.add_argument("--sources", default="team,seeds", help="comma list of team,seeds,webis,medquad (default: team,seeds)")
    train.add_argument("--out", default=None,
                       help=f"model directory to write (default: {DEFAULT_MODEL_DIR}; with --labels a new models/m-TIME)")
    train.add_argument("--corpus", default=None, help="corpus folder with articles/ and labels/ (default: corpus/)")
    train.add_argument("--medquad-groups", type=int, default=1500, help="MedQuAD documents sampled for training")
    train.add_argument("--folds", type=int, default=4, help="grouped folds for the context stage and thresholds")
    train.add_argument("--inner-folds", choices=("topic", "group"), default=INNER_FOLDS,
                       help="what those folds keep whole: a team-corpus topic, or an article "
                            f"(Webis: a product) (default: {INNER_FOLDS})")
    train.add_argument("--C", type=float, default=BASE_C, help=f"inverse regularisation of the base regression (default: {BASE_C})")
    train.add_argument("--context", choices=("logistic", "boosted", "auto"), default="auto",
                       help="context-stage learner; auto picks by out-of-fold PR-AUC on the training data (default: auto)")
    train.add_argument("--no-experts", action="store_true",
                       help="train no specialist classifiers (see EXPERTS in pipeline/config.py)")
    train.add_argument("--source-mass", default=None,
                       help="weight cap of external sources relative to the team corpus in the base classifier, "
                            "e.g. webis=0.1,medquad=0.5 (default: SOURCE_MASS in pipeline/config.py)")
    train.add_argument("--context-mass", default=None,
                       help="the same caps for the context stage and the threshold "
                            "(default: CONTEXT_MASS in pipeline/config.py)")
    train.add_argument("--labels", nargs="+", default=None,
                       help="label files from `promoflag import-labels`: retrain the default model's recipe plus "
                            "these labels, compare on the same folds, write a new model directory")
    train.add_argument("--model", default=None, help="with --labels: the model whose recipe to extend (default: the default model)")
    train.add_argument("--jobs", type=int, default=1, help="with --labels: folds run in parallel")
    train.add_argument("--quiet", action="store_true")

    models = sub.add_parser("models", help="list model directories with their metrics")
    models.add_argument("--dir", default=str(MODELS_DIR), help=f"where models live (default: {MODELS_DIR})")
    promote = sub.add_parser("promote", help="make a model the default")
    promote.add_argument("name", help="model directory name under models/")

    label = sub.add_parser("label", help="pick the paragraphs of a run most worth labelling by hand")
    label.add_argument("run", help="output folder of `promoflag score`")
    label.add_argument("--n", type=int, default=50, help="how many paragraphs (default 50)")
    label.add_argument("--out", required=True, help="file to write: .csv or .jsonl, with an empty label column")
    label.add_argument("--per-article", type=int, default=None, help="at most this many from one article (first pass)")

    imports = sub.add_parser("import-labels", help="import labels (promoflag label file, paragraphs.csv, Prodigy, doccano, Label Studio)")
    imports.add_argument("files", nargs="+", help="label files")
    imports.add_argument("--dry-run", action="store_true", help="report what would be imported, write nothing")
    imports.add_argument("--annotator", default=None, help="who labelled (default: from the file, else $USER)")

    evaluate = sub.add_parser("evaluate", help="measure a model's recipe with grouped and leave-one-source-out splits")
    evaluate.add_argument("--model", default=None, help="model directory whose recipe to measure (default: the default model)")
    evaluate.add_argument("--sources", default=None, help="sources to evaluate on (default: those the model was trained on)")
    evaluate.add_argument("--folds", type=int, default=5, help="outer grouped folds")
    evaluate.add_argument("--no-loso", action="store_true", help="skip leave-one-source-out")
    evaluate.add_argument("--medquad-groups", type=int, default=None, help="MedQuAD documents to evaluate on")
    evaluate.add_argument("--jobs", type=int, default=1, help="folds run in parallel")
    evaluate.add_argument("--mixes", default=None,
                          help="instead: compare training mixes on held-out sources, e.g. 'team,seeds;team,seeds,webis'")
    evaluate.add_argument("--hold-out-articles", default=None, metavar="GLOBS",
                          help="instead: train the model's recipe without the articles whose file names match "
                               "these comma-separated globs (e.g. 'p-*,q-*') and measure it on them; several "
                               "groups separated by ';' are left out in turn and also pooled")
    evaluate.add_argument("--quiet", action="store_true")
    return parser


def _progress(total: int, quiet: bool):
    from tqdm import tqdm

    # disable=None: no bar when stderr is not a terminal (logs, CI).
    return tqdm(total=total, unit="file", disable=True if quiet else None, file=sys.stderr, leave=False)


def _run_score(args: argparse.Namespace) -> int:
    from .config import MAX_FILE_BYTES
    from .ingest import discover
    from .model import ModelError
    from .report import ResumeError, parse_formats
    from .scoring import score_to_folder

    try:
        formats = parse_formats(args.format)
    except ValueError as exc:
        return _fail(str(exc))
    if args.jobs is not None and args.jobs < 1:
        return _fail(f"--jobs must be at least 1, got {args.jobs}")
    if args.batch_size is not None and args.batch_size < 1:
        return _fail(f"--batch-size must be at least 1, got {args.batch_size}")
    if args.scheduler and args.backend != "dask":
        return _fail("--scheduler needs --backend dask")
    try:
        files = discover(args.paths)
    except FileNotFoundError as exc:
        return _fail(str(exc))
    if not files:
        return _fail(f"no articles found in {', '.join(args.paths)} (looked for .txt, .md, .html, .htm, .jsonl)")
    progress = _progress(len(files), args.quiet)
    try:
        result = score_to_folder(
            args.paths, args.out, model_dir=args.model, threshold=args.threshold, formats=formats,
            jobs=args.jobs, backend=args.backend, scheduler=args.scheduler, resume=args.resume,
            max_bytes=args.max_bytes or MAX_FILE_BYTES, batch_size=args.batch_size or BATCH_ARTICLES,
            on_file=lambda: progress.update(1), files=files,
        )
    except ModelError as exc:
        return _fail(f"cannot load model: {exc}")
    except (ResumeError, RuntimeError) as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"cannot write to {args.out}: {exc}")
    except KeyboardInterrupt:
        print(f"promoflag: interrupted; what was written is kept: run the same command with --resume "
              f"to finish {args.out}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a worker or the cluster failed: say so, keep what was written
        print(f"promoflag: error: scoring stopped: {type(exc).__name__}: {exc}\n"
              f"The batches already written to {args.out} are kept: run the same command with --resume "
              "to finish the run.", file=sys.stderr)
        return EXIT_STOPPED
    finally:
        progress.close()
    summary = result.summary
    errors = [(row.article, row.error) for row in result.articles.itertuples(index=False) if row.error]
    if not args.quiet:
        if result.skipped:
            print(f"Resumed: {result.skipped} articles were already scored in {args.out}.")
        _print_summary(summary, errors, result.articles, Path(args.out), result.seconds, result.load_seconds)
    if args.fail_on_flag and summary["flagged"]:
        return EXIT_FLAGGED
    return EXIT_UNREADABLE if errors else EXIT_OK


def _print_summary(totals, errors, articles, out: Path, elapsed: float, load_seconds: float) -> None:
    print(
        f"Scored {totals['articles'] - totals['errors']} of {totals['articles']} articles "
        f"({totals['paragraphs']} paragraphs) in {elapsed:.1f}s (model loaded in {load_seconds:.2f}s).",
    )
    print(f"Flagged {totals['flagged']} paragraphs as promotional in {totals['flagged_articles']} articles.")
    top = articles[articles["flagged"] > 0].sort_values("promotional_share", ascending=False).head(5)
    for row in top.itertuples(index=False):
        print(f"  {row.promotional_share:6.1%}  {row.flagged:3d} flagged  {row.article}")
    if errors:
        print(f"Could not read {len(errors)} input(s):")
        for article, error in errors[:10]:
            print(f"  {article}: {error}")
        if len(errors) > 10:
            print(f"  ... and {len(errors) - 10} more (see articles.csv)")
    report = out / "report.html"
    print(f"Outputs in {out}/" + (f"; open {report}" if report.exists() else ""))


def _sources(value: str) -> list[str]:
    from .sources import SOURCES

    names = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in SOURCES]
    if unknown or not names:
        raise ValueError(f"unknown source {', '.join(unknown) or value!r}; choose from {', '.join(SOURCES)}")
    return names


def _source_mass(value: str, *, option: str = "--source-mass") -> dict[str, float]:
    mass = {}
    for item in value.split(","):
        name, _, share = item.partition("=")
        try:
            mass[name.strip()] = float(share)
        except ValueError:
            raise ValueError(f"bad {option} item {item!r}; write source=share, e.g. webis=0.3") from None
    return mass


def _run_train(args: argparse.Namespace) -> int:
    from .workflow import train_model

    if args.labels:
        return _retrain_with_labels(args)

    try:
        sources = _sources(args.sources)
    except ValueError as exc:
        return _fail(str(exc))
    corpus = Path(args.corpus) if args.corpus else None
    if corpus is not None and not (corpus / "labels").is_dir():
        return _fail(f"{corpus} has no labels/ folder")
    try:
        mass = _source_mass(args.source_mass) if args.source_mass else None
        context_mass = _source_mass(args.context_mass, option="--context-mass") if args.context_mass else None
    except ValueError as exc:
        return _fail(str(exc))
    model, path = train_model(sources, out=Path(args.out or DEFAULT_MODEL_DIR), corpus_dir=corpus, folds=args.folds, C=args.C,
                              source_mass=mass, context_mass=context_mass, context=args.context,
                              experts={} if args.no_experts else None, inner_folds=args.inner_folds,
                              medquad_groups=args.medquad_groups, verbose=not args.quiet)
    print(f"Model written to {path} (threshold {model.threshold:.3f}).")
    return EXIT_OK


def _run_evaluate(args: argparse.Namespace) -> int:
    from .model import ModelError, default_model_dir
    from .workflow import (
        compare_mixes,
        evaluate_held_out_articles,
        evaluate_model,
        refresh_model_card,
    )

    args.model = args.model or str(default_model_dir())
    if args.hold_out_articles:
        if not (Path(args.model) / "model.json").is_file():
            return _fail(f"not a promoflag model directory (no model.json): {args.model}")
        groups = [[p.strip() for p in group.split(",") if p.strip()] for group in args.hold_out_articles.split(";")]
        groups = [group for group in groups if group]
        try:
            report = evaluate_held_out_articles(Path(args.model), groups, medquad_groups=args.medquad_groups,
                                                verbose=not args.quiet)
        except ValueError as exc:
            return _fail(str(exc))
        print(json.dumps({"pooled": report["by_source"], **report.get("by_group", {})}, indent=2))
        return EXIT_OK
    if args.mixes:
        try:
            mixes = [_sources(mix) for mix in args.mixes.split(";") if mix.strip()]
        except ValueError as exc:
            return _fail(str(exc))
        model_json = Path(args.model) / "model.json"
        if not model_json.is_file():
            return _fail(f"not a promoflag model directory (no model.json): {args.model}")
        recipe = json.loads(model_json.read_text(encoding="utf-8")).get("recipe", {})
        try:
            result = compare_mixes(mixes, medquad_groups=args.medquad_groups or 1500, recipe=recipe, n_jobs=args.jobs,
                                   verbose=not args.quiet)
        except ValueError as exc:
            return _fail(str(exc))
        out = Path(args.model) / "mixes.json"
        out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        refresh_model_card(Path(args.model))
        print(json.dumps(result, indent=2))
        return EXIT_OK
    try:
        sources = _sources(args.sources) if args.sources else None
        report = evaluate_model(Path(args.model), sources=sources, folds=args.folds, loso=not args.no_loso,
                                medquad_groups=args.medquad_groups, n_jobs=args.jobs, verbose=not args.quiet)
    except (ModelError, ValueError) as exc:
        return _fail(str(exc))
    print(json.dumps(report["summary"], indent=2))
    return EXIT_OK


def _retrain_with_labels(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from .model import default_model_dir
    from .workflow import comparison_table, retrain_with_labels

    missing = [f for f in args.labels if not Path(f).is_file()]
    if missing:
        return _fail(f"no such label file: {missing[0]}")
    base = Path(args.model) if args.model else default_model_dir()
    if not (base / "model.json").is_file():
        return _fail(f"not a model directory: {base}")
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    out = Path(args.out) if args.out else MODELS_DIR / f"m-{stamp}"
    if out.resolve() == base.resolve():
        return _fail("--out must differ from the model being extended; it is left alone")
    try:
        comparison = retrain_with_labels([Path(f) for f in args.labels], base_model=base, out=out,
                                         folds=args.folds, n_jobs=args.jobs, verbose=not args.quiet)
    except ValueError as exc:
        return _fail(str(exc))
    print(comparison_table(comparison))
    print(f"New model written to {out}; the default is unchanged (`promoflag promote {out.name}` to switch).")
    return EXIT_OK


def _run_models(args: argparse.Namespace) -> int:
    from .model import default_model_dir

    root = Path(args.dir)
    current = default_model_dir().resolve()
    rows = []
    for meta_path in sorted(root.glob("*/model.json")):
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        team = (meta.get("evaluation", {}).get("cv/team")
                or meta.get("cv_metrics", {}).get("by_source", {}).get("team", {}))
        rows.append((
            "*" if meta_path.parent.resolve() == current else " ",
            meta_path.parent.name,
            str(meta.get("created", ""))[:19],
            "+".join(meta.get("recipe", {}).get("sources", [])) + ("+labels" if meta.get("recipe", {}).get("labels") else ""),
            f"{meta.get('threshold', 0):.3f}",
            "" if team.get("pr_auc") is None else f"{team['pr_auc']:.3f}",
        ))
    if not rows:
        return _fail(f"no models in {root}")
    print(f"  {'name':24} {'created':19}  {'trained on':32} {'threshold':>9} {'team PR-AUC':>11}")
    for mark, name, created, sources, threshold, auc in rows:
        print(f"{mark} {name:24} {created:19}  {sources:32} {threshold:>9} {auc:>11}")
    return EXIT_OK


def _run_promote(args: argparse.Namespace) -> int:
    from .model import ModelError, promote_model

    try:
        promote_model(args.name)
    except ModelError as exc:
        return _fail(f"{exc} (see `promoflag models`)")
    print(f"{args.name} is now the default model; the others are kept.")
    return EXIT_OK


def _run_label(args: argparse.Namespace) -> int:
    from .labels import select_for_labelling

    out = Path(args.out)
    if out.suffix.lower() not in (".csv", ".jsonl"):
        return _fail(f"--out must end in .csv or .jsonl, got {out.name}")
    try:
        chosen = select_for_labelling(args.run, n=args.n, per_article=args.per_article)
    except FileNotFoundError as exc:
        return _fail(str(exc))
    from .report import atomic_write_text

    if out.suffix.lower() == ".csv":
        atomic_write_text(out, chosen.to_csv(index=False))
    else:
        atomic_write_text(out, chosen.to_json(orient="records", lines=True, force_ascii=False))
    print(f"Wrote {len(chosen)} paragraphs from {chosen['article'].nunique()} articles to {out}; "
          "fill in the label column with promotional or informational, then run `promoflag import-labels`.")
    return EXIT_OK


def _run_import(args: argparse.Namespace) -> int:
    from .labels import check_labels, read_label_file, store_labels

    rows, problems = [], []
    for name in args.files:
        if not Path(name).is_file():
            return _fail(f"no such file: {name}")
        found, trouble = read_label_file(name)
        rows += found
        problems += trouble
    checked = check_labels(rows)
    problems += checked.problems
    for problem in problems:
        print(f"  {problem}")
    counts = {label: sum(r.label == label for r in checked.rows) for label in ("promotional", "informational")}
    verb = "Would import" if args.dry_run else "Imported"
    path = None if args.dry_run else store_labels(checked.rows, annotator=args.annotator)
    print(f"{verb} {len(checked.rows)} labels ({counts['promotional']} promotional, "
          f"{counts['informational']} informational); {len(problems)} rows not imported."
          + (f" Stored in {path}." if path else ""))
    return EXIT_UNREADABLE if any(p.kind != "unchanged" for p in problems) else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``promoflag`` console script."""
    args = _build_parser().parse_args(argv)
    handlers = {"score": _run_score, "train": _run_train, "evaluate": _run_evaluate,
                "label": _run_label, "import-labels": _run_import, "models": _run_models,
                "promote": _run_promote}
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())

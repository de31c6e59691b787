"""Throughput, memory and parallel speed-up of ``promoflag score``, against a bare floor.

    python benchmarks/bench_score.py --sizes 256,2560

Builds corpora of N articles by cycling through the team corpus (``corpus/articles``), then, each
size in a fresh process so that peak memory is its own:

- end to end: ingest to written outputs (all formats) on one core, model load excluded and
  reported apart; articles/s, paragraphs/s, MB/s of article text;
- the floor on the same texts: ``spacy.blank("en").tokenizer.pipe`` over the paragraphs, plus
  the model's own vectorizer (its fitted ``features`` step) ``.transform`` over every row the
  model vectorizes, sentences included; and end to end as a share of it;
- peak RSS at each size;
- at the largest size, the same run with 2 jobs (workers started and their models loaded
  before the clock starts; that warm-up is reported apart), and the speed-up over 1 job;
- model load time (median of 5 loads in a fresh process) and model size on disk.

Figures are printed; ``--json FILE`` also writes them. Targets (issue 5): end to end at least
half the floor, RSS at 10x at most 1.2x that at 1x, 2 jobs at least 1.7x one job, model load
under 0.5 s, model directory under 20 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _build_corpus(folder: Path, n: int) -> None:
    sources = sorted((ROOT / "corpus" / "articles").glob("*.txt"))
    folder.mkdir(parents=True)
    for i in range(n):
        source = sources[i % len(sources)]
        shutil.copyfile(source, folder / f"{i:06d}-{source.name}")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def _warm_worker(model_dir: str) -> int:
    from pipeline.scoring import _process_model

    _process_model(model_dir)
    time.sleep(0.5)  # hold this worker so the next warm-up task lands on another one
    return os.getpid()


def _measure(corpus: Path, out: Path, jobs: int, model_dir: str | None, floor: bool) -> dict:
    """One run, in this (fresh) process: end to end, then optionally the floor."""
    from pipeline.model import default_model_dir
    from pipeline.scoring import _process_model, score_to_folder

    model_dir = str(Path(model_dir or default_model_dir()).resolve())
    started = time.perf_counter()
    _process_model(model_dir)
    load = time.perf_counter() - started
    warm = 0.0
    if jobs > 1:
        from joblib import Parallel, delayed

        started = time.perf_counter()
        pids = Parallel(n_jobs=jobs)(delayed(_warm_worker)(model_dir) for _ in range(jobs))
        warm = time.perf_counter() - started
        assert len(set(pids)) == jobs, "warm-up did not reach every worker"
    result = score_to_folder([corpus], out, model_dir=model_dir, jobs=jobs)
    summary = result.summary
    text_bytes = sum(p.stat().st_size for p in corpus.iterdir())
    figures = {
        "jobs": jobs,
        "articles": summary["articles"],
        "paragraphs": summary["paragraphs"],
        "megabytes": text_bytes / 1e6,
        "seconds": result.seconds,
        "model_load_seconds": load,
        "worker_warmup_seconds": warm,
        "peak_rss_mb": _peak_rss_mb(),
    }
    if floor:
        figures["floor"] = _floor(corpus, model_dir)
    return figures


def _floor(corpus: Path, model_dir: str) -> dict:
    import spacy

    from pipeline.ingest import discover, read_articles
    from pipeline.scoring import _process_model

    model = _process_model(model_dir)
    articles = [a for a in read_articles(discover([corpus])) if a.ok]
    texts = [a.text[p.start:p.end] for a in articles for p in a.paragraphs]
    _, units = model.featurize_articles(articles)  # which rows the model vectorizes: not timed
    tokenizer = spacy.blank("en").tokenizer
    started = time.perf_counter()
    for _ in tokenizer.pipe(texts, batch_size=256):
        pass
    tokenize = time.perf_counter() - started
    vectorizer = model.base.named_steps["features"]
    started = time.perf_counter()
    vectorizer.transform(units.frame)
    vectorize = time.perf_counter() - started
    return {"tokenize_seconds": tokenize, "vectorize_seconds": vectorize,
            "seconds": tokenize + vectorize, "rows_vectorized": len(units.frame)}


def _run_child(corpus: Path, jobs: int, model_dir: str | None, floor: bool) -> dict:
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, __file__, "--child", str(corpus), "--out", out, "--jobs", str(jobs)]
        command += ["--model", model_dir] if model_dir else []
        command += ["--floor"] if floor else []
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode:
            sys.exit(f"benchmark run failed:\n{done.stderr}")
        return json.loads(done.stdout.strip().splitlines()[-1])


def _model_load(model_dir: str | None) -> dict:
    code = (
        "import json, statistics, time\n"
        "from pipeline.model import default_model_dir, load_model\n"
        f"path = {model_dir!r} or default_model_dir()\n"
        "times = []\n"
        "for _ in range(5):\n"
        "    t = time.perf_counter(); load_model(path); times.append(time.perf_counter() - t)\n"
        "size = sum(p.stat().st_size for p in __import__('pathlib').Path(path).rglob('*') if p.is_file())\n"
        "print(json.dumps({'median': statistics.median(times), 'first': times[0], 'size_mb': size / 1e6}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _rates(run: dict, seconds: float) -> str:
    return (f"{run['articles'] / seconds:8.1f} articles/s {run['paragraphs'] / seconds:9.1f} paragraphs/s "
            f"{run['megabytes'] / seconds:6.3f} MB/s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="256,2560", help="corpus sizes in articles, smallest first (default 256,2560)")
    parser.add_argument("--model", default=None, help="model directory (default: the default model)")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--jobs", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--floor", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_measure(Path(args.child), Path(args.out), args.jobs, args.model, args.floor)))
        return 0

    sizes = sorted(int(s) for s in args.sizes.split(","))
    report: dict = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
                    "runs": {}}
    print(f"machine: {report['machine']}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            corpus = Path(tmp) / f"corpus-{size}"
            _build_corpus(corpus, size)
            run = _run_child(corpus, 1, args.model, floor=size == sizes[0])
            report["runs"][str(size)] = run
            print(f"{size:6d} articles, 1 job : {_rates(run, run['seconds'])}  "
                  f"({run['seconds']:.1f} s, peak RSS {run['peak_rss_mb']:.0f} MB)")
            if "floor" in run:
                floor = run["floor"]
                print(f"{size:6d} articles, floor : {_rates(run, floor['seconds'])}  "
                      f"(tokenizer {floor['tokenize_seconds']:.2f} s + vectorizer {floor['vectorize_seconds']:.2f} s "
                      f"over {floor['rows_vectorized']} rows)")
                report["end_to_end_over_floor"] = floor["seconds"] / run["seconds"]
                print(f"end to end / floor throughput: {report['end_to_end_over_floor']:.2f} (target >= 0.5)")
        largest = corpus
        two = _run_child(largest, 2, args.model, floor=False)
        report["runs"][f"{sizes[-1]}-2jobs"] = two
        one = report["runs"][str(sizes[-1])]
        report["speedup_2_jobs"] = one["seconds"] / two["seconds"]
        print(f"{sizes[-1]:6d} articles, 2 jobs: {_rates(two, two['seconds'])}  ({two['seconds']:.1f} s; "
              f"workers warmed up in {two['worker_warmup_seconds']:.1f} s, not counted)")
        print(f"speed-up 1 -> 2 jobs: {report['speedup_2_jobs']:.2f}x (target >= 1.7)")
    if len(sizes) > 1:
        small, large = report["runs"][str(sizes[0])], report["runs"][str(sizes[-1])]
        report["rss_ratio"] = large["peak_rss_mb"] / small["peak_rss_mb"]
        print(f"peak RSS {sizes[-1]} / {sizes[0]} articles: {large['peak_rss_mb']:.0f} / {small['peak_rss_mb']:.0f} MB "
              f"= {report['rss_ratio']:.2f} (target <= 1.2)")
    load = _model_load(args.model)
    report["model_load"] = load
    print(f"model load: median {load['median']:.3f} s of 5 (first {load['first']:.3f} s; target < 0.5); "
          f"model directory {load['size_mb']:.1f} MB (target < 20)")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

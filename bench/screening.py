"""End-to-end CV screening throughput: hirebot's serving path vs the naive path, in one run.

Both paths turn each PDF into a predicted occupational category with the SAME trained head
(the bundled ``CVClassifier``), so throughput and accuracy are comparable:

* naive   -- one CV at a time: pypdf text -> ``clean_text`` -> sentence-transformers fp32
             ``encode`` of the body and of the headline -> ``CVClassifier.predict``.
* hirebot -- the serving code path: ``read_document_bytes`` (pdfium with recovered spaces), then
             ``ScreeningModel.screen_documents`` in batches (FastEmbedder: bf16 or int8,
             padding-free batches), which also computes the role score and evidence.

Each path runs in its own subprocess, so each gets a clean peak RSS. Timings are end to end
(file bytes read from disk included) after a 2-file warm-up; model loading is excluded from the
throughput and reported separately.

The bundled head was trained on the livecareer CSV, which holds these very CVs, so its accuracy
on them says little. Unless ``--no-text-check`` is given, a third subprocess (after the timed
ones) therefore retrains the same recipe (with FastEmbedder embeddings, as ``hirebot train``
does) on livecareer+updated minus the benchmarked PDFs' CVs and minus a seeded sample of
livecareer CSV texts, then scores that sample with fp32 and with FastEmbedder embeddings (1 CV is
far less than 1 point there), and the PDFs exactly as each path reads and embeds them.

All children read one snapshot of the model folder. The parent measures the CPU other processes
used while each path ran and warns when that would distort the timings.

Usage::

    .venv/bin/python bench/screening.py [--pdf-dir DIR] [--limit N] [--json]

This is a benchmark that prints a comparison, not a test.
"""

from __future__ import annotations

import argparse
import csv
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

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SHARED = Path(os.environ.get("HIREBOT_SHARED_DATA_DIR", REPO.parent / "shared" / "data"))
DEFAULT_PDF_DIR = DEFAULT_SHARED / "resume_docs" / "kaggle_livecareer_pdf"
DEFAULT_MODEL_DIR = REPO / "models" / "bundled" / "classifier"
WARMUP_FILES = 2
HEADS = ("bundled", "heldout")
OTHER_LOAD_WARN = 0.15  # cores busy with other processes during a timed path


# ----------------------------------------------------------------------------------- helpers


def list_pdfs(pdf_dir: Path, limit: int | None) -> list[Path]:
    """``DIR/<LIVECAREER LABEL>/*.pdf``, sorted; ``limit`` keeps a category-balanced subset."""
    files = sorted(pdf_dir.glob("*/*.pdf"))
    if not files:
        raise SystemExit(f"no PDFs found under {pdf_dir}/*/")
    if limit and limit < len(files):
        by_cat: dict[str, list[Path]] = {}
        for f in files:
            by_cat.setdefault(f.parent.name, []).append(f)
        files = []
        rank = 0
        while len(files) < limit:  # round-robin over categories: every label is represented
            for cat in sorted(by_cat):
                if rank < len(by_cat[cat]) and len(files) < limit:
                    files.append(by_cat[cat][rank])
            rank += 1
        files.sort()
    return files


def true_label(path: Path) -> str:
    from models.screening.taxonomy import LIVECAREER_LABELS

    return LIVECAREER_LABELS[path.parent.name]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def current_rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / (1024 * 1024)


def scores(y_true: list[str], y_pred: list[str | None]) -> dict:
    from sklearn.metrics import f1_score

    pred = [p if p is not None else "<error>" for p in y_pred]
    correct = sum(t == p for t, p in zip(y_true, pred, strict=True))
    return {
        "accuracy": correct / len(y_true),
        "macro_f1": float(
            f1_score(y_true, pred, labels=sorted(set(y_true)), average="macro", zero_division=0)
        ),
        "correct": correct,
        "n": len(y_true),
    }


def agreement(a: list, b: list) -> float:
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def naive_text(path: Path) -> str | None:
    """The naive parse: plain pypdf, then the same ``clean_text`` serving applies."""
    from models.screening.datasets import clean_text
    from models.screening.documents import extract_pdf_text_pypdf

    try:
        return clean_text(extract_pdf_text_pypdf(path.read_bytes()))
    except Exception as exc:
        print(f"naive: {path.name}: {exc!r}", file=sys.stderr)
        return None


def naive_encode(text: str, st_model, title_words: frozenset[str]):
    """One CV, one sentence-transformers ``encode`` call each for its body and its headline."""
    from models.screening.classifier import EncodedCVs, headline_of

    head = headline_of(text, title_words)
    body_emb = st_model.encode(text, convert_to_numpy=True)
    head_emb = st_model.encode(head, convert_to_numpy=True)
    return EncodedCVs([text], [head], body_emb[None, :], head_emb[None, :])


def hirebot_docs(paths: list[Path]) -> list:
    from models.screening.documents import read_document_bytes

    docs = []
    for path in paths:
        got = read_document_bytes(path.name, path.read_bytes())
        assert len(got) == 1, path  # a PDF is one document (only ZIPs expand)
        docs.extend(got)
    return docs


# ----------------------------------------------------------------------------------- children


def child_naive(files: list[Path], args: argparse.Namespace) -> dict:
    """pypdf + sentence-transformers fp32, one CV at a time, same classifier head."""
    t0 = time.perf_counter()
    from models.common.embeddings import configure_threads, load_reference_model
    from models.screening.classifier import CVClassifier

    configure_threads(args.threads)
    t_imported = time.perf_counter()
    classifier = CVClassifier.load(args.model_dir)
    title_words = frozenset(classifier.title_words)
    st_model = load_reference_model()
    t_loaded = time.perf_counter()
    rss_loaded = current_rss_mb()

    def one(path: Path) -> tuple[str | None, float, float]:
        start = time.perf_counter()
        text = naive_text(path)
        parsed = time.perf_counter()
        if text is None:  # a PDF pypdf cannot read counts as a wrong prediction
            return None, parsed - start, 0.0
        enc = naive_encode(text, st_model, title_words)
        pred = classifier.predict(enc)[0]
        return pred, parsed - start, time.perf_counter() - parsed

    for path in files[:WARMUP_FILES]:
        one(path)
    preds: list[str | None] = []
    parse_s = screen_s = 0.0
    start = time.perf_counter()
    for path in files:
        pred, p_s, s_s = one(path)
        preds.append(pred)
        parse_s += p_s
        screen_s += s_s
    total_s = time.perf_counter() - start
    peak = peak_rss_mb()

    return {
        "path": "naive",
        "preds": {"bundled": preds},
        "errors": sum(p is None for p in preds),
        "total_s": total_s,
        "parse_s": parse_s,
        "screen_s": screen_s,
        "import_s": t_imported - t0,
        "load_s": t_loaded - t_imported,
        "rss_loaded_mb": rss_loaded,
        "peak_rss_mb": peak,
        "embedder": "sentence-transformers fp32",
    }


def child_hirebot(files: list[Path], args: argparse.Namespace) -> dict:
    """The serving path: read_document_bytes + ScreeningModel.screen_documents in batches."""
    t0 = time.perf_counter()
    from models.common.embeddings import configure_threads
    from models.screening.documents import ParsedDocument
    from models.screening.screener import ScreeningModel
    from models.screening.taxonomy import category_name

    configure_threads(args.threads)
    t_imported = time.perf_counter()
    model = ScreeningModel.load(args.model_dir)
    role = model.role_profile(args.role)
    t_loaded = time.perf_counter()
    rss_loaded = current_rss_mb()
    to_id = {category_name(c): c for c in model.classifier.classes}

    def batch(paths: list[Path]) -> tuple[list[str | None], float, float]:
        start = time.perf_counter()
        docs = hirebot_docs(paths)
        parsed = time.perf_counter()
        results = model.screen_documents(docs, role)
        done = time.perf_counter()
        preds = []
        for doc, res in zip(docs, results, strict=True):
            if isinstance(doc, ParsedDocument):
                preds.append(to_id[res["category"]])
            else:
                print(f"hirebot: {doc.name}: {doc.code}: {doc.message}", file=sys.stderr)
                preds.append(None)
        return preds, parsed - start, done - parsed

    batch(files[:WARMUP_FILES])
    preds: list[str | None] = []
    parse_s = screen_s = 0.0
    start = time.perf_counter()
    for i in range(0, len(files), args.batch_size):
        got, p_s, s_s = batch(files[i : i + args.batch_size])
        preds.extend(got)
        parse_s += p_s
        screen_s += s_s
    total_s = time.perf_counter() - start
    peak = peak_rss_mb()

    precision = getattr(model.embedder, "precision", "?")
    return {
        "path": "hirebot",
        "preds": {"bundled": preds},
        "errors": sum(p is None for p in preds),
        "total_s": total_s,
        "parse_s": parse_s,
        "screen_s": screen_s,
        "import_s": t_imported - t0,
        "load_s": t_loaded - t_imported,
        "rss_loaded_mb": rss_loaded,
        "peak_rss_mb": peak,
        "embedder": f"FastEmbedder {precision}",
        "precision": precision,
        "model_version": model.version,
    }


def read_livecareer_rows(shared: Path) -> list[tuple[str, str, str]]:
    """(ID, category id, cleaned text) per row, exact duplicate texts and empty ones dropped."""
    from models.screening.datasets import LIVECAREER_FILE, clean_text
    from models.screening.taxonomy import normalise_label

    csv.field_size_limit(1 << 30)
    rows: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    with (shared / LIVECAREER_FILE).open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            raw = row["Resume_text_from_pdf"] or ""
            if not raw.strip() or raw in seen:
                continue
            seen.add(raw)
            rows.append((row["ID"], normalise_label(row["Category"]), clean_text(raw)))
    return rows


def child_accuracy(files: list[Path], args: argparse.Namespace) -> dict:
    """Train a held-out head; score a CSV sample and the PDFs with it, both embedding paths."""
    import numpy as np

    from models.common.embeddings import FastEmbedder, configure_threads, load_reference_model
    from models.screening.classifier import (
        CVClassifier,
        EncodedCVs,
        Recipe,
        encode_cvs,
        headline_of,
        learn_title_words,
    )
    from models.screening.datasets import load_updated_dedup

    configure_threads(args.threads)
    started = time.perf_counter()
    bundled = CVClassifier.load(args.model_dir)
    rows = read_livecareer_rows(args.shared)
    pdf_ids = {f.stem for f in files}
    candidates = [i for i, r in enumerate(rows) if r[0] not in pdf_ids]
    rng = np.random.default_rng(args.seed)
    n = min(args.text_sample, len(candidates))
    sample = sorted(rng.choice(candidates, size=n, replace=False).tolist())
    held = set(sample)
    held_texts = {rows[i][2] for i in sample}
    held_texts |= {r[2] for r in rows if r[0] in pdf_ids}
    train = [r for i, r in enumerate(rows) if i not in held and r[0] not in pdf_ids]
    train = [r for r in train if r[2] not in held_texts]  # no leak through duplicate texts
    if args.train_limit and args.train_limit < len(train):  # quick runs only
        keep = rng.choice(len(train), size=args.train_limit, replace=False)
        train = [train[i] for i in sorted(keep.tolist())]
    updated = load_updated_dedup(args.shared)
    train_texts = [r[2] for r in train] + updated.texts
    train_labels = [r[1] for r in train] + updated.labels

    # The bundled recipe, trained as `hirebot train classifier` trains it (FastEmbedder vectors).
    fast_embedder = FastEmbedder()
    print(
        f"[bench] training the held-out head on {len(train_texts)} CVs "
        f"({len(train)} livecareer + {len(updated)} updated) ...",
        file=sys.stderr,
        flush=True,
    )
    title_words = learn_title_words(train_texts)
    heldout = CVClassifier(Recipe(seed=args.seed)).fit(
        encode_cvs(train_texts, fast_embedder, title_words=title_words),
        train_labels,
        title_words=title_words,
    )
    heldout.save(args.heldout_dir)
    trained = time.perf_counter()

    # The sample, embedded both ways; each head picks headlines with its own title words.
    st_model = load_reference_model()
    texts = [rows[i][2] for i in sample]
    labels = [rows[i][1] for i in sample]
    body_fast = fast_embedder.encode(texts)
    body_ref = st_model.encode(texts, batch_size=32, convert_to_numpy=True)
    cos = np.sum(body_ref * body_fast, axis=1)  # both L2-normalised
    out = {
        "n": n,
        "dataset_size": len(rows),
        "seed": args.seed,
        "train_n": len(train_texts),
        "train_s": trained - started,
        "precision": fast_embedder.precision,
        "body_cosine_mean": float(cos.mean()),
        "body_cosine_min": float(cos.min()),
    }
    for key, head in (("heldout", heldout), ("bundled", bundled)):
        vocab = frozenset(head.title_words)
        heads = [headline_of(t, vocab) for t in texts]
        ref = EncodedCVs(
            texts, heads, body_ref, st_model.encode(heads, batch_size=32, convert_to_numpy=True)
        )
        fast = EncodedCVs(texts, heads, body_fast, fast_embedder.encode(heads))
        p_ref, p_fast = head.predict(ref), head.predict(fast)
        out[key] = {
            "fp32": scores(labels, p_ref),
            "fast": scores(labels, p_fast),
            "agreement": agreement(p_ref, p_fast),
        }

    # The benchmarked PDFs through the held-out head, exactly as each path reads and embeds them
    # (untimed; the timed runs used the bundled head).
    from models.screening.datasets import clean_text
    from models.screening.documents import ParsedDocument

    vocab = frozenset(heldout.title_words)
    naive_preds: list[str | None] = []
    for path in files:
        text = naive_text(path)
        naive_preds.append(
            None if text is None else heldout.predict(naive_encode(text, st_model, vocab))[0]
        )
    docs = hirebot_docs(files)
    ok = [i for i, d in enumerate(docs) if isinstance(d, ParsedDocument)]
    enc = encode_cvs(
        [clean_text(docs[i].text) for i in ok], fast_embedder, title_words=heldout.title_words
    )
    hirebot_preds: list[str | None] = [None] * len(files)
    for i, pred in zip(ok, heldout.predict(enc) if ok else [], strict=True):
        hirebot_preds[i] = pred
    out["pdf_heldout_preds"] = {"naive": naive_preds, "hirebot": hirebot_preds}
    out["total_s"] = time.perf_counter() - started
    return out


# ----------------------------------------------------------------------------------- parent


def child_env(threads: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        OMP_NUM_THREADS=str(threads),
        MKL_NUM_THREADS=str(threads),
        HIREBOT_TORCH_THREADS=str(threads),
        TOKENIZERS_PARALLELISM="false",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    return env


def run_child(which: str, args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory(prefix="hirebot-bench-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child", which,
            "--result", str(out),
            "--pdf-dir", str(args.pdf_dir),
            "--model-dir", str(args.model_dir),
            "--shared", str(args.shared),
            "--threads", str(args.threads),
            "--batch-size", str(args.batch_size),
            "--text-sample", str(args.text_sample),
            "--seed", str(args.seed),
            "--role", args.role,
        ]  # fmt: skip
        if args.limit:
            cmd += ["--limit", str(args.limit)]
        if args.heldout_dir is not None:
            cmd += ["--heldout-dir", str(args.heldout_dir)]
        if args.train_limit:
            cmd += ["--train-limit", str(args.train_limit)]
        print(f"[bench] running {which} ...", file=sys.stderr, flush=True)
        busy0, child0 = busy_cpu_s(), children_cpu_s()
        started = time.perf_counter()
        # Child stdout goes to stderr so that --json output stays machine-readable.
        subprocess.run(cmd, env=child_env(args.threads), stdout=sys.stderr, check=True)
        wall = time.perf_counter() - started
        result = json.loads(out.read_text())
        result["wall_s"] = wall
        # CPU that other processes used meanwhile: they would distort the timings.
        others = (busy_cpu_s() - busy0) - (children_cpu_s() - child0)
        result["other_load_cores"] = max(0.0, others / wall)
        return result


def busy_cpu_s() -> float:
    """Busy CPU seconds of the whole machine since boot (all processes)."""
    import psutil

    t = psutil.cpu_times()
    return t.user + t.nice + t.system + getattr(t, "irq", 0.0) + getattr(t, "softirq", 0.0)


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def summarise(files: list[Path], naive: dict, fast: dict, acc: dict | None, meta: dict) -> dict:
    labels = [true_label(f) for f in files]
    n = len(files)
    out: dict = {"machine": meta, "n_pdfs": n, "categories": len(set(labels))}
    for key, res in (("naive", naive), ("hirebot", fast)):
        out[key] = {
            "embedder": res["embedder"],
            "cvs_per_s": n / res["total_s"],
            "ms_per_cv": 1000 * res["total_s"] / n,
            "parse_ms_per_cv": 1000 * res["parse_s"] / n,
            "screen_ms_per_cv": 1000 * res["screen_s"] / n,
            "errors": res["errors"],
            "peak_rss_mb": res["peak_rss_mb"],
            "rss_after_load_mb": res["rss_loaded_mb"],
            "import_s": res["import_s"],
            "load_s": res["load_s"],
            "other_load_cores": res["other_load_cores"],
        }
        for head in HEADS:
            if res["preds"].get(head) is not None:
                out[key][head] = scores(labels, res["preds"][head])
    out["speedup"] = out["hirebot"]["cvs_per_s"] / out["naive"]["cvs_per_s"]
    for head in HEADS:
        if head in out["naive"] and head in out["hirebot"]:
            out[f"pdf_{head}"] = {
                "agreement": agreement(naive["preds"][head], fast["preds"][head]),
                "accuracy_delta_points": 100
                * (out["hirebot"][head]["accuracy"] - out["naive"][head]["accuracy"]),
            }
    out["model_version"] = fast.get("model_version")
    if acc is not None:
        acc.pop("pdf_heldout_preds", None)
        for head in HEADS:
            acc[head]["accuracy_delta_points"] = 100 * (
                acc[head]["fast"]["accuracy"] - acc[head]["fp32"]["accuracy"]
            )
        out["text_check"] = acc
    return out


def _pct(s: dict) -> str:
    return f"{100 * s['accuracy']:.1f}% ({s['correct']})"


def format_report(s: dict, args: argparse.Namespace) -> str:
    nv, hb = s["naive"], s["hirebot"]
    m = s["machine"]
    lines = [
        f"Screening throughput: {s['n_pdfs']} PDFs, {s['categories']} livecareer categories "
        f"({args.pdf_dir})",
        f"machine: {m['cpu']}, {m['cores']} cores, torch {m['torch']}, {m['threads']} threads, "
        f"python {m['python']}; hirebot embedder precision: {m['precision']} "
        f"(native bf16: {'yes' if m['native_bf16'] else 'no'})",
        f"bundled head: {args.model_dir} (version {s['model_version']}), used by both paths",
        "naive   = pypdf + sentence-transformers fp32, one CV at a time (body + headline)",
        f"hirebot = read_document_bytes (pdfium) + ScreeningModel.screen_documents, "
        f"batches of {args.batch_size} (incl. role score + evidence)",
        "",
    ]
    rows = [
        ("", "naive", "hirebot", "hirebot/naive"),
        ("CVs/s", f"{nv['cvs_per_s']:.2f}", f"{hb['cvs_per_s']:.2f}", f"{s['speedup']:.2f}x"),
        ("ms/CV", f"{nv['ms_per_cv']:.1f}", f"{hb['ms_per_cv']:.1f}",
         f"{hb['ms_per_cv'] / nv['ms_per_cv']:.2f}"),
        ("  parse ms/CV", f"{nv['parse_ms_per_cv']:.1f}", f"{hb['parse_ms_per_cv']:.1f}",
         f"{hb['parse_ms_per_cv'] / nv['parse_ms_per_cv']:.2f}"),
        ("  embed+classify ms/CV", f"{nv['screen_ms_per_cv']:.1f}",
         f"{hb['screen_ms_per_cv']:.1f}",
         f"{hb['screen_ms_per_cv'] / nv['screen_ms_per_cv']:.2f}"),
    ]  # fmt: skip
    for head, title in (("bundled", "bundled head*"), ("heldout", "held-out head")):
        if f"pdf_{head}" not in s:
            continue
        a, b = nv[head], hb[head]
        rows += [
            (f"accuracy, {title}", _pct(a), _pct(b),
             f"{s[f'pdf_{head}']['accuracy_delta_points']:+.1f} pt"),
            (f"macro-F1, {title}", f"{a['macro_f1']:.3f}", f"{b['macro_f1']:.3f}",
             f"{b['macro_f1'] - a['macro_f1']:+.3f}"),
        ]  # fmt: skip
    rows += [
        ("unreadable PDFs", str(nv["errors"]), str(hb["errors"]), ""),
        ("peak RSS MB", f"{nv['peak_rss_mb']:.0f}", f"{hb['peak_rss_mb']:.0f}",
         f"{hb['peak_rss_mb'] / nv['peak_rss_mb']:.2f}"),
        ("RSS after load MB", f"{nv['rss_after_load_mb']:.0f}",
         f"{hb['rss_after_load_mb']:.0f}", ""),
        ("import s", f"{nv['import_s']:.2f}", f"{hb['import_s']:.2f}", ""),
        ("model load s", f"{nv['load_s']:.2f}", f"{hb['load_s']:.2f}", ""),
        ("other processes, cores", f"{nv['other_load_cores']:.2f}",
         f"{hb['other_load_cores']:.2f}", ""),
    ]  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        cells = [r[0].ljust(widths[0])]
        cells += [c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells).rstrip())
    lines += ["", "* the bundled head was trained on these very CVs (their livecareer CSV text)."]
    for head, title in (("bundled", "bundled head"), ("heldout", "held-out head")):
        if f"pdf_{head}" in s:
            lines.append(
                f"same predicted category on both paths, {title}: "
                f"{100 * s[f'pdf_{head}']['agreement']:.1f}% of {s['n_pdfs']} PDFs"
            )
    busy = max(nv["other_load_cores"], hb["other_load_cores"])
    if busy > OTHER_LOAD_WARN:
        lines.append(
            f"WARNING: other processes kept {busy:.2f} cores busy during a timed path; "
            "the timings above are distorted -- rerun on an idle machine."
        )
    goal_speed = s["speedup"] >= 4.0
    lines.append(
        f"goal speed-up >= 4x: {'MET' if goal_speed else 'NOT MET'} ({s['speedup']:.2f}x)"
    )

    t = s.get("text_check")
    if t is not None:
        p = t["precision"]
        lines += [
            "",
            f"Accuracy check on {t['n']} livecareer CSV texts (seed {t['seed']}, of "
            f"{t['dataset_size']}, none of them the benchmarked PDFs): fp32 sentence-transformers "
            f"vs FastEmbedder {p} embeddings into the same head.",
            f"The held-out head is the bundled recipe retrained ({t['train_s']:.0f} s) with "
            f"FastEmbedder embeddings on {t['train_n']} CVs: livecareer+updated minus this "
            "sample and minus the PDFs' CVs.",
        ]
        for head, title in (("heldout", "held-out head"), ("bundled", "bundled head*")):
            h = t[head]
            lines.append(
                f"  {title:<14} fp32 {_pct(h['fp32'])}, F1 {h['fp32']['macro_f1']:.3f}  |  "
                f"{p} {_pct(h['fast'])}, F1 {h['fast']['macro_f1']:.3f}  |  "
                f"delta {h['accuracy_delta_points']:+.1f} pt, same prediction "
                f"{100 * h['agreement']:.1f}%"
            )
        lines += [
            f"  body-embedding cosine fp32 vs {p}: mean {t['body_cosine_mean']:.5f}, "
            f"min {t['body_cosine_min']:.5f}",
            "  * the bundled head saw these CVs in training: its absolute accuracy is optimistic;",
            "    what matters is the difference between the two embedding paths.",
        ]
        delta = abs(t["heldout"]["accuracy_delta_points"])
        where = f"held-out head, {t['n']} CSV texts"
    else:
        key = "pdf_heldout" if "pdf_heldout" in s else "pdf_bundled"
        delta = abs(s[key]["accuracy_delta_points"])
        where = f"{s['n_pdfs']} PDFs"
    lines.append(
        f"goal accuracy within 1 point: {'MET' if delta <= 1.0 else 'NOT MET'} "
        f"(|delta| {delta:.1f} pt, {where})"
    )
    return "\n".join(lines)


def machine_info(threads: int, precision: str) -> dict:
    import torch

    from models.common.embeddings import cpu_has_native_bf16

    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "threads": threads,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "precision": precision,
        "native_bf16": cpu_has_native_bf16(),
    }


def check_model(folder: Path) -> None:
    """Fail now, not after minutes of work, when the model folder does not fit the code."""
    from models.screening.screener import ScreeningModel

    try:
        ScreeningModel.load(folder)
    except Exception as exc:
        raise SystemExit(
            f"cannot load the screening model ({exc!r}); retrain it with "
            "`hirebot train classifier`"
        ) from None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pdf-dir", type=Path, default=DEFAULT_PDF_DIR,
                   help="folder of <LIVECAREER LABEL>/*.pdf (default: %(default)s)")
    p.add_argument("--limit", type=int, default=None,
                   help="use only N PDFs (category-balanced) for a quick run")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--no-text-check", dest="text_check", action="store_false",
                   help="skip the held-out head and the fp32-vs-FastEmbedder check on CSV texts")
    p.add_argument("--text-sample", type=int, default=600,
                   help="CSV texts held out for the accuracy check (default: %(default)s)")
    p.add_argument("--train-limit", type=int, default=None,
                   help="cap the held-out head's livecareer training CVs (quick runs only)")
    p.add_argument("--batch-size", type=int, default=32,
                   help="CVs per screen_documents call on the hirebot path (default: %(default)s)")
    p.add_argument("--threads", type=int, default=2, help="torch/OMP threads (default: 2)")
    p.add_argument("--model-dir", type=Path, default=DEFAULT_MODEL_DIR,
                   help="trained classifier folder (default: the bundled one)")
    p.add_argument("--shared", type=Path, default=DEFAULT_SHARED,
                   help="shared data folder holding resumes/*.csv (default: %(default)s)")
    p.add_argument("--role", default="Accountant", help="role screened for on the hirebot path")
    p.add_argument("--seed", type=int, default=0, help="seed of the CSV sample and held-out head")
    p.add_argument("--child", choices=("naive", "hirebot", "accuracy"), help=argparse.SUPPRESS)
    p.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--heldout-dir", type=Path, help=argparse.SUPPRESS)
    return p.parse_args(argv)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        files = list_pdfs(args.pdf_dir, args.limit)
        run = {"naive": child_naive, "hirebot": child_hirebot, "accuracy": child_accuracy}
        result = run[args.child](files, args)
        args.result.write_text(json.dumps(result))
        return 0

    if not (args.model_dir / "config.json").exists():
        raise SystemExit(
            f"no trained classifier in {args.model_dir}; run `hirebot train classifier`"
        )
    files = list_pdfs(args.pdf_dir, args.limit)
    with tempfile.TemporaryDirectory(prefix="hirebot-bench-") as tmp:
        # Every child reads one snapshot of the model folder, even if it is retrained meanwhile.
        shown_model_dir, args.model_dir = args.model_dir, Path(tmp) / "classifier"
        shutil.copytree(shown_model_dir, args.model_dir)
        check_model(args.model_dir)
        for f in files:  # warm the OS page cache once, so neither path pays the first disk read
            f.read_bytes()
        naive = run_child("naive", args)
        fast = run_child("hirebot", args)
        acc = None
        if args.text_check:
            args.heldout_dir = Path(tmp) / "heldout"
            acc = run_child("accuracy", args)
            naive["preds"]["heldout"] = acc["pdf_heldout_preds"]["naive"]
            fast["preds"]["heldout"] = acc["pdf_heldout_preds"]["hirebot"]
        args.model_dir = shown_model_dir
    meta = machine_info(args.threads, fast.get("precision", "?"))
    summary = summarise(files, naive, fast, acc, meta)
    summary["command"] = " ".join([Path(sys.executable).name, *sys.argv])
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(format_report(summary, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())

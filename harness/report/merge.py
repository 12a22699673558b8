"""`python -m harness merge A.json B.json ... [-o DIR]`: join the conformance.json of several jobs (the
shards of one run, `--shard K/N`, or engines run on different machines) into one report with the
same contract: DIR/conformance.json, DIR/report.html, DIR/summary.md (and $GITHUB_STEP_SUMMARY), and
the matrix on stdout.

Refused (exit 2, nothing written) rather than merged wrongly: a file that is not a conformance
document; the same test (and repeat) in two files; shards of different N; a shard missing, or the
same shard twice (unless --partial: merge what is there and say what is missing).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from harness.report import baseline, document, shard, text
from harness.report import html as html_report
from harness.report import markdown as summary


class MergeError(Exception):
    pass


def merge(docs: list[tuple[str, dict]], *, partial: bool = False) -> dict:
    """One schema-2 document from (name, document) pairs (schema 1 or 2), rows in input order, the
    findings tables joined; MergeError says what is wrong (a finding id that means two things included)."""
    try:
        docs = [(name, baseline.check(doc, name)) for name, doc in docs]
    except baseline.BaselineError as e:
        raise MergeError(str(e)) from None
    findings: dict[str, dict] = {}
    for name, doc in docs:
        for fid, record in (doc.get("findings") or {}).items():
            if fid in findings and findings[fid] != record:
                raise MergeError(f"finding {fid} says different things in two files (another expectations file?): "
                                 f"{name} has {record}, an earlier file {findings[fid]}")
            findings[fid] = record
    notes = _check_shards(docs, partial)
    seen: dict[tuple, str] = {}
    results: list[dict] = []
    for name, doc in docs:
        for row in doc["results"]:
            key = (row.get("test") or json.dumps([row.get(k) for k in document.ROW_KEY]), row.get("repeat"))
            if key in seen:
                raise MergeError(f"{key[0]} is in both {seen[key]} and {name}: these are not parts of one run "
                                 f"(shards of one run are disjoint)")
            seen[key] = name
            results.append(row)
    merged = document.build(_union(d.get("engines", []) for _, d in docs), _union(d.get("tfjs", []) for _, d in docs),
                            results, findings)
    merged["timing"] = text.timing(results)  # summed over the jobs; their wall times overlap
    merged["merged"] = [{"file": name, "rows": len(doc["results"]), **({"shard": doc["shard"]} if "shard" in doc else {})}
                        for name, doc in docs]
    if notes:
        merged["incomplete"] = notes
    return merged


def _check_shards(docs: list[tuple[str, dict]], partial: bool) -> list[str]:
    """Shards group by the engines their job selected (a workflow of engine x shard jobs has one shard set
    per engine): within a group, one N, every K once."""
    groups: dict[tuple, list] = {}
    for name, doc in docs:
        if "shard" in doc:
            groups.setdefault(_selection(doc), []).append((name, shard.parse(doc["shard"])))
    notes = []
    for selection, sharded in groups.items():
        what = f" of the {'+'.join(selection)} run" if selection else ""
        counts = {n for _, (_, n) in sharded}
        if len(counts) > 1:
            raise MergeError(f"shards{what} of different N: " + ", ".join(f"{name} is {k}/{n}" for name, (k, n) in sharded))
        (n,) = counts
        by_k: dict[int, str] = {}
        for name, (k, _) in sharded:
            if k in by_k:
                raise MergeError(f"shard {k}/{n}{what} given twice: {by_k[k]} and {name}")
            by_k[k] = name
        missing = [f"{k}/{n}{what}" for k in range(1, n + 1) if k not in by_k]
        if missing and not partial:
            raise MergeError(f"shard(s) {', '.join(missing)} missing: the merged report would not cover the run "
                             f"(--partial merges what there is)")
        notes += [f"shard {m} missing" for m in missing]
    return notes


def _selection(doc: dict) -> tuple:
    """The engines a sharded job selected (the plugin records them), else those its rows ran on."""
    engines = doc.get("selection", {}).get("engines") or {r.get("engine") for r in doc["results"]}
    return tuple(sorted(str(e) for e in engines))


def _union(lists) -> list[dict]:
    """Records in first-seen order, each once (engine records from several jobs, TF.js builds)."""
    out, seen = [], set()
    for records in lists:
        for record in records:
            key = json.dumps(record, sort_keys=True)
            if key not in seen:
                seen.add(key)
                out.append(record)
    return out


def write(doc: dict, out: Path) -> list[Path]:
    """conformance.json (validated first: nothing is written when it is not a valid document), report.html,
    summary.md and the step summary."""
    out.mkdir(parents=True, exist_ok=True)
    written = [document.write(out / "conformance.json", doc), html_report.write(doc, out)]
    md = summary.markdown(doc)
    (out / "summary.md").write_text(md, "utf-8")
    summary.write_step_summary(md)
    return [*written, out / "summary.md"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="conformance.json", help="the documents to join (shards, or jobs)")
    parser.add_argument("-o", "--out", default="test-results/merged", metavar="DIR",
                        help="where the merged conformance.json, report.html and summary.md go (default %(default)s)")
    parser.add_argument("--partial", action="store_true", help="merge even if some shards of the run are missing")


def main(args: argparse.Namespace) -> int:
    docs = []
    for path in args.files:
        try:
            docs.append((path, baseline.load(Path(path))))
        except baseline.BaselineError as e:
            print(f"merge: {e}")
            return 2
    try:
        doc = merge(docs, partial=args.partial)
    except MergeError as e:
        print(f"merge: {e}")
        return 2
    print(text.findings(doc))
    print(text.matrix(doc))
    for note in doc.get("incomplete", []):
        print(f"INCOMPLETE: {note}")
    try:
        written = write(doc, Path(args.out))
    except document.DocumentError as e:
        print(f"merge: the merged document is not valid, nothing written: {e}")
        return 2
    for path in written:
        print(f"written: {path}")
    return 0

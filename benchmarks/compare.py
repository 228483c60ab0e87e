"""Compare two versions of ivcdb on figures 1 and 2, alternating runs in one process.

    .venv/bin/python benchmarks/compare.py --before OLD/.venv/bin/python [--repeat 5]

`--before` is the Python of a virtualenv where an earlier ivcdb is installed (e.g. a
`git worktree` of the commit before a redesign with its own `make`); the current version is
this file's interpreter. Each round runs the baseline, the earlier and the current version
one after the other, so a drifting machine affects all three alike; the medians of the
rounds are compared. Also reports the peak RSS of `ivcdb build --data DIR` on the generated
review (references, vocabularies, review and claims in one load).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import generate  # noqa: E402
from run import Run, machine, run  # noqa: E402

Command = Callable[[Path], Sequence[str]]


def ivcdb(python: str) -> list[str]:
    """The console script of the virtualenv of `python`, as users run it. (Not `python -m`:
    run from a checkout, that imports the checkout's ivcdb for every version alike.)"""
    return [str(Path(python).with_name("ivcdb"))]


def fresh_copy(source: Path, target: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source, target)


def rounds(repeat: int, commands: dict[str, tuple[Path | None, Command]],
           work: Path) -> dict[str, list[Run]]:
    """Run each named command once per round, in order; each load starts from its own copy."""
    runs: dict[str, list[Run]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, (start, command) in commands.items():
            target = work / f"{name}.sqlite"
            if start is not None:
                fresh_copy(start, target)
            else:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{target}{suffix}").unlink(missing_ok=True)
            runs[name].append(run(command(target)))
    return runs


def report(title: str, runs: dict[str, list[Run]], base: str) -> None:
    medians = {name: statistics.median(r.seconds for r in rs) for name, rs in runs.items()}
    print(title)
    for name, median in medians.items():
        peak = max(r.rss_mb for r in runs[name])
        line = f"  {name:<10} median {median:7.3f} s  peak RSS {peak:6.1f} MB"
        if name != base:
            line += f"  ratio to {base} {median / medians[base]:5.2f}"
        print(line, flush=True)
    if "after" in medians and "before" in medians:
        print(f"  after / before: {medians['after'] / medians['before']:5.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="Python of the earlier version's venv")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--references", type=int, default=20_000)
    parser.add_argument("--claims", type=int, default=200_000)
    parser.add_argument("--only", choices=("1", "2", "build"), action="append",
                        help="run only these figures (repeatable); default: all")
    args = parser.parse_args()
    only = set(args.only or ("1", "2", "build"))
    versions = {"before": args.before, "after": sys.executable}
    work = Path(tempfile.mkdtemp(prefix="ivcdb-compare-"))
    try:
        print(f"machine: {machine()}")
        print(f"workload: {args.references} references, {args.claims} claims; "
              f"{args.repeat} alternating rounds", flush=True)
        files = generate(work / "data", references=args.references, claims=args.claims)
        bib, claims = files["references.bib"], files["claims.csv"]
        vocab = ["--units", str(files["units.csv"]), "--measures", str(files["measures.csv"]),
                 "--outcomes", str(files["outcomes.csv"])]
        init: dict[str, Path] = {}
        ready: dict[str, Path] = {}
        for name, python in versions.items():
            init[name] = work / f"init-{name}.sqlite"
            run([*ivcdb(python), "init", "--db", str(init[name])])
            ready[name] = work / f"ready-{name}.sqlite"
            shutil.copyfile(init[name], ready[name])
            if "2" in only:  # the claims load's starting point (vocabularies, references)
                run([*ivcdb(python), "load", "--db", str(ready[name]), *vocab,
                     "--references", str(bib), "--review", str(files["review.toml"])])

        def load(python: str, *extra: str) -> Command:
            return lambda db: [*ivcdb(python), "load", "--db", str(db), *extra]

        parse = [sys.executable, "-c",
                 "import bibtexparser, sys; bibtexparser.parse_file(sys.argv[1])", str(bib)]
        figure1: dict[str, tuple[Path | None, Command]] = {"baseline": (None, lambda _: parse)}
        for name, python in versions.items():
            figure1[name] = (init[name], load(python, "--references", str(bib)))
        if "1" in only:
            report("1. load --references (SQLite); baseline bibtexparser.parse_file",
                   rounds(args.repeat, figure1, work), "baseline")

        def base_claims(db: Path) -> list[str]:
            return [sys.executable, str(HERE / "baseline_claims.py"), str(db), str(claims)]

        figure2: dict[str, tuple[Path | None, Command]] = {
            "baseline": (ready["after"], base_claims)}
        for name, python in versions.items():
            figure2[name] = (ready[name], load(python, "--claims", str(claims)))
        if "2" in only:
            report("2. load --claims (SQLite); baseline pandas + sqlite3 executemany",
                   rounds(args.repeat, figure2, work), "baseline")

        build: dict[str, tuple[Path | None, Command]] = {}
        for name, python in versions.items():
            build[name] = (None, lambda db, p=python: [  # type: ignore[misc]
                *ivcdb(p), "build", "--db", str(db), "--data", str(files["review.toml"].parent),
                "--quiet"])
        if "build" not in only:
            return
        builds = rounds(1, build, work)
        report("build --data DIR (whole review in one load, fresh database each)", builds,
               "before")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

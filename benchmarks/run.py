"""Run the ivcdb benchmarks: whole processes, medians of repeated runs, ratios to baselines.

    .venv/bin/python benchmarks/run.py [--quick] [--repeat 3] [--postgres URL]

Generates the workload (benchmarks/generate.py) into a work folder, then times each target
against its baseline in the same run, alternating the two (baseline, target, baseline, ...)
so that a machine whose speed drifts slows both alike, and prints one line per figure: the
median, the baseline's median and their ratio, next to the target ratio. Timings are wall-clock
(`time.perf_counter`) of whole child processes; peak RSS is the child's own `ru_maxrss`
(from `os.wait4`). Nothing here is a test: no figure makes the run fail.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import generate  # noqa: E402

PYTHON = sys.executable
IVCDB = [str(Path(PYTHON).with_name("ivcdb"))]  # the console script, as users run it


@dataclass
class Run:
    seconds: float
    rss_mb: float


def run(cmd: Sequence[str], *, stdout: Path | None = None, check: bool = True) -> Run:
    """One whole process: wall time and its own peak RSS; its output goes to a file or away."""
    out = stdout.open("wb") if stdout else subprocess.DEVNULL
    start = time.perf_counter()
    proc = subprocess.Popen(list(cmd), stdout=out, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if stdout:
        out.close()  # type: ignore[union-attr]
    if check and proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{err.decode()[-2000:]}")
    return Run(seconds, usage.ru_maxrss / 1024)


def paired(base: Callable[[int], Sequence[str]], cmd: Callable[[int], Sequence[str]],
           repeat: int, *, base_setup: Callable[[int], None] | None = None,
           setup: Callable[[int], None] | None = None,
           stdout: Path | None = None) -> tuple[list[Run], list[Run]]:
    """The baseline's runs and the command's, alternating (baseline, command, baseline, ...):
    a machine whose speed drifts during the run slows both alike, so their ratio holds."""
    base_runs, runs = [], []
    for i in range(repeat):
        if base_setup:
            base_setup(i)
        base_runs.append(run(base(i)))
        if setup:
            setup(i)
        runs.append(run(cmd(i), stdout=stdout))
    return base_runs, runs


@dataclass
class Figure:
    name: str
    runs: list[Run]
    base_name: str = ""
    base: list[Run] | None = None
    target: float | None = None

    @property
    def median(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def base_median(self) -> float | None:
        return statistics.median(r.seconds for r in self.base) if self.base else None

    @property
    def ratio(self) -> float | None:
        base = self.base_median
        return self.median / base if base else None

    def line(self) -> str:
        text = f"{self.name:<44} {self.median:8.3f} s"
        if self.base is not None:
            text += f"   baseline {self.base_median:8.3f} s ({self.base_name})"
            text += f"   ratio {self.ratio:5.2f}"
            if self.target is not None:
                verdict = "ok" if self.ratio is not None and self.ratio <= self.target else "OVER"
                text += f"   target <= {self.target:g}x {verdict}"
        return text


class Bench:
    def __init__(self, work: Path, files: dict[str, Path], repeat: int) -> None:
        self.work, self.files, self.repeat = work, files, repeat
        self.figures: list[Figure] = []

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        print(figure.line(), flush=True)
        return figure

    def vocab_args(self) -> list[str]:
        f = self.files
        return ["--units", str(f["units.csv"]), "--measures", str(f["measures.csv"]),
                "--outcomes", str(f["outcomes.csv"])]

    # -- SQLite --------------------------------------------------------------------------

    def sqlite(self) -> None:
        w, f = self.work, self.files
        init = w / "init.sqlite"
        run([*IVCDB, "init", "--db", str(init)])
        parse = [PYTHON, "-c", "import bibtexparser, sys; bibtexparser.parse_file(sys.argv[1])",
                 str(f["references.bib"])]
        target = w / "refs.sqlite"

        def fresh(_: int) -> None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(init, target)

        load_refs = [*IVCDB, "load", "--db", str(target), "--references",
                     str(f["references.bib"])]
        base, runs = paired(lambda _: parse, lambda _: load_refs, self.repeat, setup=fresh)
        refs = self.add(Figure("1. load --references (SQLite)", runs,
                               "bibtexparser.parse_file", base, 2.0))
        peak = max(r.rss_mb for r in refs.runs)
        print(f"{'5. peak RSS of the references load':<44} {peak:8.1f} MB   target < 500 MB "
              f"{'ok' if peak < 500 else 'OVER'}", flush=True)
        self.peak_rss = peak

        # The claims load starts from a database holding the vocabularies, references, review.
        ready = w / "ready.sqlite"
        shutil.copyfile(init, ready)
        run([*IVCDB, "load", "--db", str(ready), *self.vocab_args(), "--references",
             str(f["references.bib"]), "--review", str(f["review.toml"])])
        claims_db = w / "claims.sqlite"

        def fresh_ready(_: int) -> None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{claims_db}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(ready, claims_db)

        base, runs = paired(
            lambda _: [PYTHON, str(HERE / "baseline_claims.py"), str(claims_db),
                       str(f["claims.csv"])],
            lambda _: [*IVCDB, "load", "--db", str(claims_db), "--claims", str(f["claims.csv"])],
            self.repeat, base_setup=fresh_ready, setup=fresh_ready)
        self.add(Figure("2. load --claims (SQLite)", runs, "pandas + sqlite3 executemany",
                        base, 3.0))

        built = w / "built.sqlite"
        fresh_ready(0)
        run([*IVCDB, "load", "--db", str(claims_db), "--claims", str(f["claims.csv"])])
        shutil.copyfile(claims_db, built)
        self.export(str(built), "SQLite")
        self.startup(str(built))

    def export(self, db: str, engine: str, target: float | None = 1.5) -> None:
        out = self.work / "export.csv"
        cmd = export_command(db)
        if cmd is None:
            print(f"3. export claims ({engine}): not measured: `ivcdb export claims` does not "
                  "exist yet", flush=True)
            return
        base, runs = paired(lambda _: [PYTHON, str(HERE / "baseline_export.py"), db,
                                       str(self.work / "baseline.csv")],
                            lambda _: cmd, self.repeat, stdout=out)
        self.add(Figure(f"3. export claims to CSV ({engine})", runs,
                        "pandas.read_sql + to_csv", base, target))

    def startup(self, large: str) -> None:
        """CLI start-up: `--help`, and one query on the curated database (`ivcdb build`).

        The query is also timed on the large benchmark database, for information: there it
        prints thousands of claims, so it measures more than start-up.
        """
        repeat = max(self.repeat, 5)
        base, runs = paired(lambda _: [PYTHON, str(HERE / "typer_two.py"), "--help"],
                            lambda _: [*IVCDB, "--help"], repeat)
        self.add(Figure("4a. ivcdb --help", runs, "two-command Typer app --help", base, 1.2))
        curated = self.work / "curated.sqlite"
        run([*IVCDB, "build", "--db", str(curated), "--quiet"])
        for db, label, target in ((str(curated), "curated", 1.3),
                                  (large, "benchmark", None)):
            query = [*IVCDB, "query", "claims", "--db", db, "--outcome", "overall_survival_5y"]
            name = f"4b. query claims --outcome ... ({label})"
            if not _works(query):
                print(f"{name}: not measured: `ivcdb query claims` fails", flush=True)
                continue
            base, runs = paired(lambda _: [PYTHON, "-c", "import sqlmodel, typer"],
                                lambda _, q=query: q, repeat)  # type: ignore[misc]
            self.add(Figure(name, runs, "import sqlmodel, typer", base, target))

    # -- PostgreSQL ----------------------------------------------------------------------

    def postgres(self, base_url: str) -> None:
        import sqlalchemy as sa

        admin = sa.create_engine(base_url.replace("postgresql://", "postgresql+psycopg://", 1))
        schemas: list[str] = []

        def schema_url() -> str:
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            with admin.begin() as conn:
                conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
            schemas.append(schema)
            sep = "&" if "?" in base_url else "?"
            return f"{base_url}{sep}options=-csearch_path%3D{schema}"

        f = self.files
        try:
            urls: list[str] = []

            def fresh(_: int) -> None:
                urls.append(schema_url())
                run([*IVCDB, "init", "--db", urls[-1]])

            parse = [PYTHON, "-c", "import bibtexparser, sys; "
                     "bibtexparser.parse_file(sys.argv[1])", str(f["references.bib"])]
            base, runs = paired(lambda _: parse, lambda _: [
                *IVCDB, "load", "--db", urls[-1], "--references", str(f["references.bib"])],
                self.repeat, setup=fresh)
            self.add(Figure("6a. load --references (PostgreSQL)", runs,
                            "bibtexparser.parse_file", base))  # targets are SQLite's: reported only

            def ready(_: int) -> None:
                fresh(0)
                run([*IVCDB, "load", "--db", urls[-1], *self.vocab_args(), "--references",
                     str(f["references.bib"]), "--review", str(f["review.toml"])])

            base, runs = paired(
                lambda _: [PYTHON, str(HERE / "baseline_claims.py"), urls[-1],
                           str(f["claims.csv"])],
                lambda _: [*IVCDB, "load", "--db", urls[-1], "--claims", str(f["claims.csv"])],
                self.repeat, base_setup=ready, setup=ready)
            self.add(Figure("6b. load --claims (PostgreSQL)", runs,
                            "pandas + psycopg executemany", base))
            self.export(urls[-1], "PostgreSQL", None)
        finally:
            with admin.begin() as conn:
                for schema in schemas:
                    conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            admin.dispose()


def _works(cmd: Sequence[str]) -> bool:
    return subprocess.run(list(cmd), capture_output=True).returncode == 0


def export_command(db: str) -> list[str] | None:
    """`ivcdb export claims` writing CSV to stdout, if the command exists."""
    cmd = [*IVCDB, "export", "claims", "--db", db, "--format", "csv"]
    probe = subprocess.run([*IVCDB, "export", "claims", "--help"], capture_output=True,
                           text=True)
    if probe.returncode != 0:
        return None
    return cmd if "--format" in probe.stdout else cmd[:-2]


def machine() -> str:
    import platform
    import sqlite3

    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{platform.node()}: {os.cpu_count()} cores, {memory:.0f} GiB, "
            f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
            f"{platform.platform()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--references", type=int, default=20_000)
    parser.add_argument("--claims", type=int, default=200_000)
    parser.add_argument("--quick", action="store_true",
                        help="2,000 references and 20,000 claims: a smoke run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres", metavar="URL", help="also run the loads on PostgreSQL "
                        "(each run in a new schema of this database, dropped afterwards)")
    parser.add_argument("--work", type=Path, help="work folder (default: a temporary one)")
    args = parser.parse_args()
    if args.quick:
        args.references, args.claims = 2_000, 20_000
    work = args.work or Path(tempfile.mkdtemp(prefix="ivcdb-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine()}")
    print(f"workload: {args.references} references, {args.claims} claims (seed {args.seed}); "
          f"medians of {args.repeat} runs; work folder {work}", flush=True)
    files = generate(work / "data", references=args.references, claims=args.claims,
                     seed=args.seed)
    # Time ivcdb as an installed package starts: from bytecode. (An editable install has
    # none, and PYTHONDONTWRITEBYTECODE, set on some machines, keeps it from being written.)
    compileall.compile_dir(str(HERE.parent / "ivcdb"), quiet=1)
    bench = Bench(work, files, args.repeat)
    started = time.perf_counter()
    try:
        bench.sqlite()
        if args.postgres:
            bench.postgres(args.postgres)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()

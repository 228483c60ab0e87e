"""Peak RSS and time of a whole `ivcdb build --data DIR` (issue 13: < 300 MB at 200,000 claims).

    python benchmarks/peak_rss.py [--references 20000] [--claims 200000] [--repeat 1]

writes the workload with `benchmarks/generate.py` into a temporary folder, builds a fresh
SQLite database from it in a child process, and prints the child's peak RSS (`ru_maxrss`
from `os.wait4`) and wall-clock time for each run. Not a test: nothing fails on a figure.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def build_once(data: Path, folder: Path) -> tuple[float, float]:
    """(peak RSS in MB, seconds) of one `ivcdb build` into a new database."""
    db = folder / "build.sqlite"
    for leftover in folder.glob("build.sqlite*"):
        leftover.unlink()
    start = time.perf_counter()
    ivcdb = Path(sys.executable).parent / "ivcdb"  # the venv's command
    proc = subprocess.Popen([str(ivcdb), "build", "--db", str(db), "--data", str(data),
                             "--quiet"], stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"build failed:\n{err.decode()[-2000:]}")
    return usage.ru_maxrss / 1024, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--references", type=int, default=20_000)
    parser.add_argument("--claims", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data = folder / "data"
        subprocess.run([sys.executable, str(HERE / "generate.py"), str(data), "--references",
                        str(args.references), "--claims", str(args.claims)], check=True,
                       stdout=subprocess.DEVNULL)
        for _ in range(args.repeat):
            peak, seconds = build_once(data, folder)
            print(f"ivcdb build: {args.references:,} references, {args.claims:,} claims: "
                  f"peak RSS {peak:.0f} MB, {seconds:.2f} s")


if __name__ == "__main__":
    main()

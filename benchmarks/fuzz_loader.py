"""Fuzz target: the loaders must turn ANY input into records and problems, never an exception.

`one_input(data)` feeds the bytes to the BibTeX and claims-CSV parsers exactly as a file would
reach them (UTF-8 decoding included). Two drivers:

- with atheris installed (`pip install atheris`): coverage-guided libFuzzer,
  `python benchmarks/fuzz_loader.py -atheris -max_total_time=600 [corpus_dir]`;
- otherwise (and in CI, via tests/test_properties.py): a mutation fuzzer seeded with the curated
  data, the test files and ../shared/corpora, `python benchmarks/fuzz_loader.py --seconds 600`.

Inputs that raise are written to `fuzz-crashes/` (or `--crashes DIR`) to be replayed with
`python benchmarks/fuzz_loader.py --replay FILE`.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED_GLOBS = ("data/*.bib", "data/claims*.csv", "tests/data/**/*.bib",
              "../shared/corpora/**/*.bib")
# The spacing BibTeX accepts around `@`, the type and the brace (issue 17: such entries vanished).
ENTRY_STARTS = [b"@article{", b"@ article{", b"@article\n{", b"@\narticle\n(", b"@Article\t {",
                b"@ \t misc  \r\n  {", b"text @book{"]
TOKENS = [*ENTRY_STARTS, b"@string{", b"@comment{", b"@preamble{", b"@set{", b"@xdata{", b"(",
          b")", b"{", b"}", b'"', b",", b"=", b"#", b"%", b"\\", b"\\'{e}", b"{\\\"u}", b" and ",
          b" and others", b"crossref = {", b"xdata = {", b"author = {", b"title = {", b"\n",
          b"\r\n", b"\x00", b"\x1b", b"\xef\xbb\xbf", b"\xc3\xa9", b"e\xcc\x81", b"\xff",
          b"\\textbf{", b"$", b"~", b"--", b";", b"'=", b"\"\"", b"\n\n\n\n"]


class Vanished(AssertionError):
    """An entry a plain scan finds was neither read (stored or reported) nor reported."""


def one_input(data: bytes) -> None:
    """Parse `data` as a BibTeX file and as a claims CSV; any exception is a bug, and so is
    an entry that vanishes (`Vanished`)."""
    from ivcdb.loaders.bibtex import parse_bibtex
    from ivcdb.loaders.bibtex.entries import scan
    from ivcdb.loaders.claims import parse_claims
    from ivcdb.loaders.files import decode_utf8

    text, problem = decode_utf8(data, "fuzz")
    if text is None:
        assert problem is not None
        return
    bib = parse_bibtex("fuzz.bib", text=text)
    assert len(bib.records) <= bib.blocks
    accounted = {line for line, _ in bib.entries} | {p.line for p in bib.problems}
    vanished = [s.line for s in scan(text)[1] if s.line not in accounted]
    if vanished:
        raise Vanished(f"entries on lines {vanished} were neither read nor reported")
    for _ in parse_claims("fuzz.csv", text=text).claims():
        pass


# Cell pieces for `csv_cells_input`: line breaks, quotes, separators and formula starts.
CSV_PIECES = ["\r", "\n", "\r\n", '"', '""', ",", ";", "=", "+", "-", "@", "'", "\t", "x",
              "1", "é", " "]


def csv_cells_input(rng: random.Random) -> bytes:
    """A claims CSV whose cells hold CR, LF, quotes and formula starts, quoted or not."""
    from ivcdb.contract import CLAIM_COLUMNS

    rows = [",".join(CLAIM_COLUMNS)]
    for _ in range(rng.randint(1, 4)):
        cells = []
        for _ in CLAIM_COLUMNS:
            text = "".join(rng.choice(CSV_PIECES) for _ in range(rng.randint(0, 5)))
            cells.append('"' + text.replace('"', '""') + '"' if rng.random() < 0.6 else text)
        rows.append(",".join(cells))
    return ("\n".join(rows) + rng.choice(["\n", "\r\n", ""])).encode("utf-8")


def one_csv_input(data: bytes) -> None:
    """Parse `data` as a claims CSV: a CR outside quotes (not in CRLF) is refused, never read
    as a row end, and every row is a record or a problem."""
    from ivcdb.loaders.claims import parse_claims
    from ivcdb.loaders.csvfile import bare_cr_line
    from ivcdb.report import Code

    text = data.decode("utf-8")
    parsed = parse_claims("fuzz.csv", text=text)
    refused = any(p.code is Code.BARE_CR for p in parsed.problems)
    assert refused == (bare_cr_line(text) is not None)
    claims = list(parsed.claims())
    assert not (refused and claims)
    assert parsed.count >= sum(valid for _, _, valid in claims)


def seeds() -> list[bytes]:
    found = [p.read_bytes() for pattern in SEED_GLOBS for p in sorted(ROOT.glob(pattern))
             if p.is_file() and p.stat().st_size < 200_000]
    return found + [entry_variants()] if found else [entry_variants()]


def entry_variants() -> bytes:
    """One entry for each spacing of `ENTRY_STARTS`, text and comments between them."""
    body = b"k%d, title = {T}, author = {B, C}, year = 2000"
    return b"\n% between\n@comment{c}\n".join(
        start + body % i + (b")" if start.endswith(b"(") else b"}")
        for i, start in enumerate(ENTRY_STARTS)) + b"\n"


def mutate(data: bytes, rng: random.Random, pool: list[bytes]) -> bytes:
    """One to four random edits: flip, insert a token, delete, duplicate, or splice."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        pos = rng.randint(0, len(out))
        choice = rng.random()
        if choice < 0.3:
            out[pos:pos] = rng.choice(TOKENS)
        elif choice < 0.45 and out:
            out[min(pos, len(out) - 1)] = rng.randrange(256)
        elif choice < 0.65 and out:
            del out[pos:pos + rng.randint(1, 64)]
        elif choice < 0.8 and out:
            end = min(len(out), pos + rng.randint(1, 256))
            out[pos:pos] = out[pos:end] * rng.randint(1, 8)
        else:
            other = rng.choice(pool)
            start = rng.randint(0, len(other))
            out[pos:pos] = other[start:start + rng.randint(1, 512)]
    return bytes(out[:300_000])


@dataclass
class Stats:
    executions: int = 0
    seconds: float = 0.0
    crashes: list[str] = field(default_factory=list)
    vanished: int = 0  # inputs where an entry was neither read nor reported


def run(*, seconds: float, seed: int | None = None, crashes: Path | None = None) -> Stats:
    """Mutation-fuzz `one_input` for `seconds`; returns executions and crashing inputs."""
    rng = random.Random(seed)
    pool = seeds()
    stats = Stats()
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        csv_turn = stats.executions % 4 == 3  # every fourth input: CSV cells with CR and LF
        data = csv_cells_input(rng) if csv_turn else mutate(rng.choice(pool), rng, pool)
        stats.executions += 1
        try:
            (one_csv_input if csv_turn else one_input)(data)
        except Vanished:
            stats.vanished += 1
            if crashes is not None:
                crashes.mkdir(parents=True, exist_ok=True)
                (crashes / f"vanished-{stats.executions}.bin").write_bytes(data)
        except Exception:  # noqa: BLE001 - every exception is a finding
            stats.crashes.append(traceback.format_exc(limit=3))
            if crashes is not None:
                crashes.mkdir(parents=True, exist_ok=True)
                (crashes / f"crash-{stats.executions}.bin").write_bytes(data)
        if stats.executions % 50 == 0 and len(pool) < 400:
            pool.append(data)  # keep some mutants: deeper, stranger inputs next
    stats.seconds = time.monotonic() - start
    return stats


def main() -> int:
    if "-atheris" in sys.argv:
        import atheris  # type: ignore[import-not-found]

        argv = [a for a in sys.argv if a != "-atheris"]
        atheris.instrument_all()
        atheris.Setup(argv, one_input)
        atheris.Fuzz()
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--crashes", type=Path, default=Path("fuzz-crashes"))
    parser.add_argument("--replay", type=Path, default=None)
    args = parser.parse_args()
    if args.replay is not None:
        one_input(args.replay.read_bytes())
        print("no exception")
        return 0
    stats = run(seconds=args.seconds, seed=args.seed, crashes=args.crashes)
    print(f"{stats.executions} inputs in {stats.seconds:.0f} s, {len(stats.crashes)} crash(es), "
          f"{stats.vanished} with vanished entries")
    for crash in stats.crashes[:5]:
        print(crash)
    return 1 if stats.crashes or stats.vanished else 0


if __name__ == "__main__":
    sys.exit(main())

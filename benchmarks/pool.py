"""Time `pool --method DL` on many outcomes against statsmodels' combine_effects.

    .venv/bin/python benchmarks/pool.py [--outcomes 1000] [--studies 20] [--repeat 5]

Writes a generated review (seeded): N proportion outcomes, each with its own measure and one
claim citing S references, every reference reporting events/n for that measure (a random
true logit per outcome plus between-study spread, n from 20 to 500). It is loaded with
`ivcdb build --data`. Then, in this one process, it times

- `pool`: `ivcdb.synthesis.pool_outcome(session, code, method="DL")` for every outcome (what
  `ivcdb pool CODE --method DL` does after start-up: the queries, the effect sizes, the fit,
  the back-transform and the study rows), one outcome at a time;
- `pool_review`: `ivcdb.synthesis.pool_review(session, method="DL")`, every outcome of the
  review from one reading of its claims and findings;
- `rma`: `ivcdb.meta.rma(yi, vi, method="DL")` alone on the same effects;
- the baseline: `statsmodels.stats.meta_analysis.combine_effects(yi, vi, method_re="dl")`
  on the same effects (numpy arrays), called directly;

each `--repeat` times, and prints the medians and ratios. The pooled estimates of `pool`
and statsmodels are compared first (they must agree: τ² > 0 in every generated outcome).
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REVIEW = "poolbench"


def write_review(out: Path, outcomes: int, studies: int, seed: int) -> None:
    """The data folder: vocabulary, references, review.toml, claims and findings."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    (out / "units.csv").write_text("code,label,description\npercent,%,Percentage.\n",
                                   encoding="utf-8")
    measures = ["code,label,family,description"]
    outcome_rows = ["code,label,kind,unit,measure,timepoint,description"]
    claims = ["claim_id,review,outcome,statement,value,value_low,value_high,unit,numerator,"
              "denominator,qualifier,timepoint,population,derived,reported,section,paragraph,"
              "reference_keys,reference_numbers"]
    findings = ["reference_key,reference_number,measure,value,value_low,value_high,numerator,"
                "denominator,unit,timepoint,population,note,seen_at"]
    keys = [f"study{i:05d}" for i in range(1, outcomes * studies + 1)]
    bib = [f"@article{{{key},\n  author = {{Author{i:05d}, A}},\n  title = {{Study {i}}},\n"
           f"  journal = {{Journal}},\n  year = {{{2000 + i % 25}}}\n}}\n"
           for i, key in enumerate(keys, 1)]
    review = [f'[review]\nid = "{REVIEW}"\ntitle = "Generated pooling benchmark"\n'
              'authors = ["Bench, Mark"]\nyear = 2026\n']
    review += [f'[[citations]]\nnumber = {n}\nkey = "{key}"\n' for n, key in enumerate(keys, 1)]
    for o in range(1, outcomes + 1):
        code = f"outcome{o:04d}"
        measures.append(f"measure{o:04d},Measure {o},family{o:04d},Generated.")
        outcome_rows.append(f"{code},Outcome {o},proportion,percent,measure{o:04d},,Generated.")
        mu, tau = rng.uniform(-1.5, 1.5), rng.uniform(0.3, 0.8)
        cited = list(range((o - 1) * studies + 1, o * studies + 1))
        claims.append(f"{REVIEW}-{o:04d},{REVIEW},{code},Claim {o}.,50,,,percent,,,,,,false,,"
                      f"Results,1,{';'.join(keys[n - 1] for n in cited)},"
                      f"{';'.join(map(str, cited))}")
        for n in cited:
            size = rng.randint(20, 500)
            p = 1 / (1 + math.exp(-rng.gauss(mu, tau)))
            spread = rng.gauss(0, math.sqrt(size * p * (1 - p)))
            events = min(size, max(0, round(p * size + spread)))
            findings.append(f"{keys[n - 1]},{n},measure{o:04d},,,,{events},{size},,,,,")
    for name, lines in (("measures.csv", measures), ("outcomes.csv", outcome_rows),
                        ("claims.csv", claims), ("findings.csv", findings)):
        (out / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out / "references.bib").write_text("\n".join(bib), encoding="utf-8")
    (out / "review.toml").write_text("\n".join(review), encoding="utf-8")


def median_time(call: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outcomes", type=int, default=1000)
    parser.add_argument("--studies", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ivcdb-poolbench-") as folder:
        base, timed = _measure(Path(folder), args)
    print(f"workload: {args.outcomes} outcomes x {args.studies} studies (seed {args.seed}), "
          f"medians of {args.repeat} runs, one process")
    print(f"statsmodels combine_effects(method_re='dl'): {base:.3f} s")
    for name, seconds in timed.items():
        print(f"{name}: {seconds:.3f} s ({seconds / base:.2f}x the baseline)")


def _measure(work: Path, args: argparse.Namespace) -> tuple[float, dict[str, float]]:
    """The baseline's median and each timed path's, on a review written into `work`."""
    from statsmodels.stats.meta_analysis import combine_effects

    from ivcdb.db import open_db
    from ivcdb.meta import rma
    from ivcdb.synthesis import effect_rows, pool_outcome, pool_review

    write_review(work / "data", args.outcomes, args.studies, args.seed)
    db_path = work / "pool.sqlite"
    subprocess.run([sys.executable, "-m", "ivcdb.cli", "build", "--db", str(db_path),
                    "--data", str(work / "data")], check=True, stdout=subprocess.DEVNULL)
    codes = [f"outcome{o:04d}" for o in range(1, args.outcomes + 1)]
    with open_db(str(db_path), readonly=True) as database, database.session() as session:
        rows = effect_rows(session, review=REVIEW)
        effects: dict[str, tuple[list[float], list[float]]] = {}
        for r in rows:
            yi, vi = effects.setdefault(r["outcome"], ([], []))
            yi.append(r["yi"])
            vi.append(r["vi"])
        arrays = [(np.array(effects[c][0]), np.array(effects[c][1])) for c in codes]
        assert all(len(y) == args.studies for y, _ in arrays)
        # the same answers first
        for code, (y, v) in zip(codes, arrays, strict=True):
            ours = pool_outcome(session, code, review=REVIEW, method="DL").pooled
            theirs = combine_effects(y, v, method_re="dl")
            assert ours is not None and theirs.tau2 > 0
            assert math.isclose(ours.tau2, theirs.tau2, rel_tol=1e-9)
            assert math.isclose(ours.estimate, 100 / (1 + math.exp(-theirs.mean_effect_re)),
                                rel_tol=1e-9)

        def pool_all() -> None:
            for code in codes:
                pool_outcome(session, code, review=REVIEW, method="DL")

        def review_all() -> None:
            pool_review(session, review=REVIEW, method="DL")

        def rma_all() -> None:
            for y, v in arrays:
                rma(y, v, method="DL")

        def statsmodels_all() -> None:
            for y, v in arrays:
                combine_effects(y, v, method_re="dl")

        base = median_time(statsmodels_all, args.repeat)
        timed = {"pool (per outcome)": median_time(pool_all, args.repeat),
                 "pool_review (all at once)": median_time(review_all, args.repeat),
                 "rma alone": median_time(rma_all, args.repeat)}
    return base, timed


if __name__ == "__main__":
    main()

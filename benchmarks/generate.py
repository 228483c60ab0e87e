"""Deterministic benchmark data: a large BibTeX library, a review citing it, and its claims.

    python benchmarks/generate.py OUT_DIR [--references 20000] [--claims 200000] [--seed 1]

writes, in the formats of data/README.md:

- `references.bib`: N entries with 1-8 authors (about half the author occurrences are distinct
  names), LaTeX accents in some names (`M{\\"u}ller`, `Garc{\\'i}a`), `von` parts and `Jr`
  suffixes, `{Protected}` words in titles, `@string` journal macros (some with `#`
  concatenation), page ranges with `--`, and a DOI on some entries;
- `review.toml`: one review (`bench`) citing every reference, numbered in file order;
- `units.csv`, `measures.csv`, `outcomes.csv`: the vocabularies shipped with ivcdb;
- `claims.csv`: M claims (wide form, `ivcdb.contract.CLAIM_COLUMNS`) over those references,
  with points, ranges and counts, and 1-3 supporting references each.

The same arguments always give byte-identical files (one seeded `random.Random`).
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
from pathlib import Path

from ivcdb.contract import CLAIM_COLUMNS
from ivcdb.csvformat import format_number
from ivcdb.db import resource_dir

REVIEW = "bench"
SURNAMES = (
    "Smith", "Johnson", "Li", "Wang", "Zhang", "Chen", "Liu", "Kim", "Lee", "Park", "Nguyen",
    "Brown", "Taylor", "Wilson", "Davies", "Evans", "Thomas", "Roberts", "Walker", "Wright",
    "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino",
    "Greco", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann",
    "Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura",
    "Kobayashi", "Kato", "Silva", "Santos", "Oliveira", "Souza", "Pereira", "Costa", "Martin",
    "Bernard", "Dubois", "Durand", "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Novak",
    "Horvat", "Kowalski", "Nowak", "Wojcik", "Jensen", "Nielsen", "Hansen", "Pedersen", "Olsen",
    "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Patel", "Shah",
    "Singh", "Kumar", "Gupta", "Sharma", "Khan", "Ali", "Ahmed", "Hassan", "Ibrahim", "Cohen",
    "Levi", "Mizrahi", "Friedman", "Murphy", "Kelly", "O'Brien", "Ryan", "Walsh", "Byrne",
)
# LaTeX-accented surnames, as a BibTeX file writes them.
LATEX_SURNAMES = (
    r"M{\"u}ller", r"Garc{\'i}a", r"Mart{\'i}nez", r"G{\"o}tze", r"Jos{\'e}", r"Nu{\~n}ez",
    r"Fran{\c{c}}ois", r"{\O}stergaard", r"Dvo{\v{r}}{\'a}k", r"Br{\aa}ten", r"Sch{\"o}nberg",
    r"Ram{\'\i}rez", r"P{\'e}rez", r"L{\'o}pez", r"G{\"u}nther", r"Ca{\~n}ete", r"Bj{\"o}rk",
    r"W{\k{e}}grzyn", r"{\v{S}}koda", r"Ho{\ss}",
)
GIVEN = (
    "John", "Mary", "Wei", "Jun", "Anna", "Maria", "Peter", "Paul", "Sara", "David", "Laura",
    "Marco", "Giulia", "Hans", "Yuki", "Hiroshi", "Ana", "Pedro", "Claire", "Louis", "Eva",
    "Jan", "Piotr", "Lars", "Ingrid", "Ravi", "Priya", "Omar", "Fatima", "Noa", "Sean",
    "J", "M", "R", "A", "S", "K", "T", "X", "Y",
)
LATEX_GIVEN = (r"Jos{\'e}", r"Ren{\'e}e", r"J{\"o}rg", r"Fran{\c{c}}oise", r"In{\^e}s")
PREFIXES = ("van", "van der", "de", "von", "da", "di", "le", "del")
SUFFIXES = ("Jr.", "Jr", "III", "Sr.")
WORDS = (
    "leiomyosarcoma", "inferior", "vena", "cava", "resection", "reconstruction", "graft",
    "outcomes", "survival", "surgical", "management", "retroperitoneal", "sarcoma", "tumour",
    "vascular", "renal", "vein", "patency", "chemotherapy", "radiotherapy", "adjuvant",
    "neoadjuvant", "imaging", "diagnosis", "prognostic", "factors", "multicenter", "cohort",
    "analysis", "series", "review", "experience", "long-term", "follow-up", "recurrence",
    "metastasis", "hepatic", "caval", "replacement", "ligation", "bypass", "prosthetic",
    "thrombosis", "anticoagulation", "primary", "secondary", "patients", "treatment",
)
PROTECTED = ("{DNA}", "{IVC}", "{Japan}", "{PTFE}", "{MRI}", "{CT}", "{Europe}",
             "{Ki-67}", "{SEER}", "{USA}", "{PET-CT}")
TITLE_LATEX = (r"\textit{in vivo}", r"$\alpha$-actin", r"{\"O}sterreich", r"5\%")
JOURNALS = (
    ("jso", "Journal of Surgical Oncology"), ("aso", "Annals of Surgical Oncology"),
    ("ejso", "European Journal of Surgical Oncology"), ("jvs", "Journal of Vascular Surgery"),
    ("ann_surg", "Annals of Surgery"), ("cancer", "Cancer"), ("br_j_surg", "British Journal of "
    "Surgery"), ("ijs", "International Journal of Surgery"), ("world_j_surg", "World Journal "
    "of Surgery"), ("surgery", "Surgery"), ("jama_surg", "{JAMA} Surgery"),
    ("rad", "Radiology"), ("ajr", "American Journal of Roentgenology"),
    ("urology", "Urology"), ("j_urol", "The Journal of Urology"),
    ("eur_urol", "European Urology"), ("sarcoma", "Sarcoma"), ("oncologist", "The Oncologist"),
    ("lancet_oncol", "The Lancet Oncology"), ("jco", "Journal of Clinical Oncology"),
    ("ann_vasc", "Annals of Vascular Surgery"), ("ejvs", "European Journal of Vascular and "
    "Endovascular Surgery"), ("hpb", "{HPB}"), ("langenbecks", "Langenbeck's Archives of "
    "Surgery"), ("cir_esp", "Cirug{\\'i}a Espa{\\~n}ola"), ("chirurg", "Der Chirurg"),
)
STUDY_DESIGNS = ("case report", "case series", "cohort", "multicenter cohort",
                 "pooled analysis", "review")
SECTIONS = ("Abstract", "1. Introduction", "2. Results", "3. Discussion", "4. Conclusion")
QUALIFIERS = ("approximately", "up to", "at least", "more than", "less than")
TIMEPOINTS = ("5 years", "3 years", "1 year", "median follow-up", "postoperative follow-up",
              "preoperative")
POPULATIONS = ("patients with PIVCLMS", "patients after resection", "women", "adults",
               "patients with recurrence")


def _name_pool_entry(rng: random.Random) -> str:
    """One author as BibTeX writes it, in one of its three name forms."""
    family = rng.choice(LATEX_SURNAMES) if rng.random() < 0.12 else rng.choice(SURNAMES)
    if rng.random() < 0.15:
        family = f"{family}-{rng.choice(SURNAMES)}"
    given = rng.choice(LATEX_GIVEN) if rng.random() < 0.05 else rng.choice(GIVEN)
    if rng.random() < 0.3:
        given = f"{given} {rng.choice(GIVEN)[0]}"
    form = rng.random()
    if form < 0.06:
        return f"{rng.choice(PREFIXES)} {family}, {given}"
    if form < 0.09:
        return f"{family}, {rng.choice(SUFFIXES)}, {given}"
    if form < 0.30:
        return f"{given} {family}"
    return f"{family}, {given}"


def _authors(rng: random.Random, used: list[str]) -> str:
    """1-8 authors; about half of all author occurrences are a name not seen before."""
    names: list[str] = []
    for _ in range(rng.randint(1, 8)):
        if used and rng.random() < 0.5:
            name = rng.choice(used)
        else:
            name = _name_pool_entry(rng)
            used.append(name)
        if name not in names:
            names.append(name)
    if len(names) >= 3 and rng.random() < 0.1:
        names.append("others")
    return " and ".join(names)


def _title(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(5, 16))]
    if rng.random() < 0.35:
        words.insert(rng.randrange(len(words) + 1), rng.choice(PROTECTED))
    if rng.random() < 0.05:
        words.insert(rng.randrange(len(words) + 1), rng.choice(TITLE_LATEX))
    words[0] = words[0].capitalize()
    return " ".join(words)


def _entry(rng: random.Random, index: int, used: list[str]) -> tuple[str, str]:
    key = f"ref{index:06d}"
    year = rng.randint(1960, 2025)
    fields = [("author", "{" + _authors(rng, used) + "}"), ("title", "{" + _title(rng) + "}")]
    macro, _ = rng.choice(JOURNALS)
    roll = rng.random()
    if roll < 0.6:
        fields.append(("journal", macro))
    elif roll < 0.7:
        fields.append(("journal", macro + ' # { Supplement}'))
    else:
        fields.append(("journal", "{" + rng.choice(JOURNALS)[1] + "}"))
    fields.append(("year", str(year) if rng.random() < 0.5 else "{" + str(year) + "}"))
    fields.append(("volume", "{" + str(rng.randint(1, 300)) + "}"))
    if rng.random() < 0.8:
        fields.append(("number", "{" + str(rng.randint(1, 12)) + "}"))
    first = rng.randint(1, 2000)
    fields.append(("pages", "{" + f"{first}--{first + rng.randint(1, 20)}" + "}"))
    if rng.random() < 0.4:
        fields.append(("doi", "{" + f"10.{rng.randint(1000, 9999)}/bench.{index}" + "}"))
    if rng.random() < 0.1:
        fields.append(("studydesign", "{" + rng.choice(STUDY_DESIGNS) + "}"))
    body = ",\n".join(f"  {name} = {value}" for name, value in fields)
    return key, f"@article{{{key},\n{body}\n}}\n"


def write_references(path: Path, n: int, rng: random.Random) -> list[str]:
    used: list[str] = []
    keys: list[str] = []
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write("% ivcdb benchmark library (generated; not real references)\n\n")
        for macro, name in JOURNALS:
            out.write(f'@string{{{macro} = "{name}"}}\n')
        out.write("\n")
        for i in range(1, n + 1):
            key, text = _entry(rng, i, used)
            keys.append(key)
            out.write(text + "\n")
    return keys


def write_review(path: Path, keys: list[str]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write(f'[review]\nid = "{REVIEW}"\ntitle = "A generated living systematic review"\n'
                  'authors = ["Bench, Mark"]\nyear = 2025\n\n')
        for number, key in enumerate(keys, 1):
            out.write(f'[[citations]]\nnumber = {number}\nkey = "{key}"\n\n')


def _outcomes() -> list[tuple[str, str, str]]:
    """(code, kind, unit) of every outcome in the shipped vocabulary."""
    with (resource_dir("data") / "outcomes.csv").open(encoding="utf-8", newline="") as f:
        return [(row["code"], row["kind"], row["unit"]) for row in csv.DictReader(f)]


def _figure(rng: random.Random, kind: str, unit: str) -> dict[str, str]:
    """The number columns and `reported` text of one claim of this outcome kind."""
    cells = dict.fromkeys(("value", "value_low", "value_high", "numerator", "denominator",
                           "qualifier", "reported", "unit"), "")
    if kind == "qualitative":
        return cells
    cells["unit"] = unit
    top = 100 if unit == "percent" else 1000
    roll = rng.random()
    if kind in ("proportion", "count") and roll < 0.35:
        denominator = rng.randint(1, 500)
        numerator = rng.randint(0, denominator)
        cells.update(numerator=str(numerator), denominator=str(denominator), unit="count",
                     reported=f"{numerator} out of {denominator}")
    elif roll < 0.65:
        low = round(rng.uniform(0, top * 0.6), 1)
        high = round(rng.uniform(low, top), 1)
        cells.update(value_low=format_number(low), value_high=format_number(high),
                     reported=f"{format_number(low)}–{format_number(high)} {unit}")
    else:
        value = round(rng.uniform(0, top), rng.choice((0, 1)))
        cells.update(value=format_number(value), reported=f"{format_number(value)} {unit}")
    if rng.random() < 0.25:
        cells["qualifier"] = rng.choice(QUALIFIERS)
    return cells


# The columns the rows below fill, through `reference_roles`; the contract's later ones (who
# extracted and checked a claim, synthesis fields) are optional and left out.
COLUMNS = CLAIM_COLUMNS[:CLAIM_COLUMNS.index("reference_roles") + 1]


def write_claims(path: Path, m: int, keys: list[str], rng: random.Random) -> None:
    outcomes = _outcomes()
    survival = next(o for o in outcomes if o[0] == "overall_survival_5y")
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for i in range(1, m + 1):
            code, kind, unit = survival if rng.random() < 0.05 else rng.choice(outcomes)
            cells = _figure(rng, kind, unit)
            numbers = sorted(rng.sample(range(1, len(keys) + 1), rng.randint(1, 3)))
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 18)))
            writer.writerow((
                f"{REVIEW}-{i:07d}", REVIEW, code,
                f"Claim {i}: {words.capitalize()}.",
                cells["value"], cells["value_low"], cells["value_high"], cells["unit"],
                cells["numerator"], cells["denominator"], cells["qualifier"],
                rng.choice(TIMEPOINTS) if rng.random() < 0.4 else "",
                rng.choice(POPULATIONS) if rng.random() < 0.6 else "",
                "false", cells["reported"], rng.choice(SECTIONS), rng.randint(1, 12),
                ";".join(keys[n - 1] for n in numbers), ";".join(map(str, numbers)),
                "",  # reference_roles: every reference supports the claim
            ))


def generate(out: Path, *, references: int = 20_000, claims: int = 200_000,
             seed: int = 1) -> dict[str, Path]:
    """Write every benchmark file into `out`; returns their paths by role."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    paths = {name: out / name for name in ("references.bib", "review.toml", "claims.csv")}
    keys = write_references(paths["references.bib"], references, rng)
    write_review(paths["review.toml"], keys)
    write_claims(paths["claims.csv"], claims, keys, rng)
    for vocab in ("units.csv", "measures.csv", "outcomes.csv"):
        paths[vocab] = out / vocab
        shutil.copyfile(resource_dir("data") / vocab, paths[vocab])
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--references", type=int, default=20_000)
    parser.add_argument("--claims", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    for role, path in generate(args.out, references=args.references, claims=args.claims,
                               seed=args.seed).items():
        print(f"{role}: {path}")


if __name__ == "__main__":
    main()

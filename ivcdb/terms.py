"""The fixed terms of the data model: outcome kinds, qualifiers, citation roles, effect
measures, what a figure's two bounds are, percent, the length of a review id.

Kept apart from `ivcdb.models` so the file readers can check values without importing
SQLModel and SQLAlchemy (a load reads its files while those are still being imported).
"""

from __future__ import annotations

OUTCOME_KINDS = (
    "proportion",
    "count",
    "duration",
    "dose",
    "size",
    "volume",
    "age",
    "date",
    "ratio",
    "qualitative",
)
QUALITATIVE = "qualitative"  # the outcome kind whose claims are statements, not figures
# The statuses a verdict by hand (`ivcdb assess`) may give: those of the source check that
# compare (not `not_assessable`: a reviewer who read the source has assessed it).
MANUAL_STATUSES = ("consistent", "partly_consistent", "inconsistent", "different_measure",
                   "unverified")
QUALIFIERS = ("approximately", "up to", "at least", "more than", "less than")
CITATION_ROLES = ("supports", "data_source", "disagrees")
SUPPORTING_ROLES = ("supports", "data_source")  # a reference cited in support of the claim
SUPPORTS = "supports"  # the role of a link that names none
DISAGREES = "disagrees"
# What a finding's figure measures: the effect measure a synthesis pools it on.
EFFECTS = ("proportion", "percent", "hazard_ratio", "odds_ratio", "risk_ratio", "mean",
           "median")
# What `value_low`/`value_high` are: a claim's may be a range, a confidence interval or an
# interquartile range; a finding keeps its CI in `ci_low`/`ci_high`, so its bounds are never one.
RANGE, CI, IQR = "range", "ci", "iqr"
CLAIM_BOUNDS = (RANGE, CI, IQR)
FINDING_BOUNDS = (RANGE, IQR)
DEFAULT_CI_LEVEL = 95.0  # the level (percent) of a CI that does not give one
PERCENT = "percent"
REVIEW_ID_LENGTH = 100  # the longest review id (`id` of review.toml) the database holds
# The review.toml key (of `[review]`) listing finding populations that mean the whole study.
WHOLE_POPULATIONS_KEY = "whole_populations"

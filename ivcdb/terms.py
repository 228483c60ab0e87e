"""The fixed terms of the data model: outcome kinds, qualifiers, citation roles, percent,
the length of a review id.

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
QUALIFIERS = ("approximately", "up to", "at least", "more than", "less than")
CITATION_ROLES = ("supports", "data_source", "disagrees")
SUPPORTING_ROLES = ("supports", "data_source")  # a reference cited in support of the claim
SUPPORTS = "supports"  # the role of a link that names none
DISAGREES = "disagrees"
PERCENT = "percent"
REVIEW_ID_LENGTH = 100  # the longest review id (`id` of review.toml) the database holds
# The review.toml key (of `[review]`) listing finding populations that mean the whole study.
WHOLE_POPULATIONS_KEY = "whole_populations"

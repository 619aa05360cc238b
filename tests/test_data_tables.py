"""course_lib.data.tables against the mirror: German credit, MovieLens 100K, scikit-learn tables."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from mirror import need, private_cache
from course_lib.data.tables import (GERMAN_CREDIT_COLUMNS, SKLEARN_TABLES, load_german_credit,
                                    load_movielens_100k, load_sklearn_table)


data_env = private_cache("course_cache_tables")


def test_german_credit_decoded():
    need("german_credit")
    df = load_german_credit()
    assert df.shape == (1000, 21)
    assert tuple(df.columns) == GERMAN_CREDIT_COLUMNS
    assert df["creditability"].value_counts().to_dict() == {"good": 700, "bad": 300}
    assert df["credit_amount"].dtype == np.int64 and df["age_in_years"].between(18, 80).all()
    assert df.loc[0, "status_of_existing_checking_account"] == "... < 0 DM"


def test_german_credit_raw_matches_decoded():
    need("german_credit")
    raw, decoded = load_german_credit(raw=True), load_german_credit()
    assert raw.shape == (1000, 21) and tuple(raw.columns) == GERMAN_CREDIT_COLUMNS
    assert raw["creditability"].value_counts().to_dict() == {1: 700, 2: 300}
    assert raw["status_of_existing_checking_account"].str.match(r"^A1[1-4]$").all()
    # Same applicants in the same order: numeric columns and the target agree row by row.
    for column in ("duration_in_month", "credit_amount", "age_in_years"):
        assert (raw[column] == decoded[column]).all(), column
    assert ((raw["creditability"] == 1) == (decoded["creditability"] == "good")).all()


def test_movielens_100k():
    need("movielens_100k")
    ml = load_movielens_100k()
    ratings, items, users = ml["ratings"], ml["items"], ml["users"]
    assert list(ratings.columns) == ["user_id", "item_id", "rating", "timestamp"]
    assert len(ratings) == 100_000 and all(ratings.dtypes == np.int64)
    assert ratings["user_id"].nunique() == 943 and ratings["item_id"].nunique() == 1682
    assert set(ratings["rating"].unique()) == {1, 2, 3, 4, 5}
    assert ratings.groupby("user_id").size().min() >= 20  # as the README says
    assert len(items) == 1682 and items["item_id"].is_unique
    genres = list(items.columns[5:])
    assert len(genres) == 19 and genres[0] == "unknown" and genres[-1] == "Western"
    assert items[genres].isin([0, 1]).all().all()
    assert items.loc[items["item_id"] == 543, "title"].item() == "Misérables, Les (1995)"  # latin-1
    assert pd.api.types.is_datetime64_any_dtype(items["release_date"])
    assert items["release_date"].isna().sum() == 1
    assert len(users) == 943 and list(users.columns) == ["user_id", "age", "gender", "occupation", "zip_code"]
    assert set(users["gender"]) == {"M", "F"}
    assert not pd.api.types.is_numeric_dtype(users["zip_code"])


@pytest.mark.parametrize("name, shape", [("breast_cancer", (569, 30)), ("diabetes", (442, 10)),
                                         ("digits", (1797, 64)), ("wine", (178, 13)), ("iris", (150, 4))])
def test_sklearn_tables(name, shape):
    X, y = load_sklearn_table(name)
    assert isinstance(X, pd.DataFrame) and isinstance(y, pd.Series)
    assert X.shape == shape and len(y) == shape[0]
    assert name in SKLEARN_TABLES


def test_sklearn_table_unknown_name():
    with pytest.raises(ValueError) as info:
        load_sklearn_table("titanic")
    for name in SKLEARN_TABLES:
        assert name in str(info.value)

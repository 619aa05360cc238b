"""Tests for course_lib.tabular: encoding, fit-on-training-only behaviour, German credit labels,
and every bad-input error path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from course_lib.tabular import TabularPreprocessor, german_credit_xy, infer_column_types
from mirror import need


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "amount": [100.0, 200.0, 300.0, 400.0],
        "months": [6, 12, 24, 48],
        "purpose": ["car", "tv", "car", "education"],
        "owner": [True, False, True, True],
    })


def test_infer_column_types(frame):
    assert infer_column_types(frame) == (["purpose", "owner"], ["amount", "months"])
    assert infer_column_types(frame, exclude=["months"]) == (["purpose", "owner"], ["amount"])
    with pytest.raises(ValueError, match="exclude"):
        infer_column_types(frame, exclude=["nope"])
    with pytest.raises(ValueError, match="dtype"):
        infer_column_types(frame.assign(when=pd.to_datetime(["2020-01-01"] * 4)))
    with pytest.raises(TypeError):
        infer_column_types(frame.to_numpy())


def test_fit_transform_standardises_and_one_hot_encodes(frame):
    prep = TabularPreprocessor(["purpose"], ["amount", "months"])
    out = prep.fit_transform(frame)
    assert out.dtype == np.float32 and out.shape == (4, 2 + 3)
    assert prep.feature_names == ["amount", "months", "purpose=car", "purpose=education", "purpose=tv"]
    assert prep.n_features == 5
    assert np.allclose(out[:, :2].mean(axis=0), 0, atol=1e-6)
    assert np.allclose(out[:, :2].std(axis=0), 1, atol=1e-6)
    assert np.array_equal(out[:, 2:], [[1, 0, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0]])


def test_statistics_come_from_the_training_rows_only(frame):
    prep = TabularPreprocessor(["purpose"], ["amount"]).fit(frame.iloc[:2])   # amounts 100, 200; car, tv
    test = pd.DataFrame({"amount": [150.0, 400.0], "purpose": ["car", "boat"]})
    out = prep.transform(test)
    assert out[0, 0] == pytest.approx(0.0)            # the training mean, 150, maps to 0
    assert out[1, 0] == pytest.approx(5.0)            # (400 - 150) / 50
    assert prep.feature_names == ["amount", "purpose=car", "purpose=tv"]
    assert np.array_equal(out[1, 1:], [0, 0])         # unseen category: all zeros, no error


def test_from_frame_and_factory_give_fresh_independent_preprocessors(frame):
    prep = TabularPreprocessor.from_frame(frame)
    assert prep.categorical == ["purpose", "owner"] and prep.numeric == ["amount", "months"]
    make = TabularPreprocessor.factory(["purpose"], ["amount"])
    a, b = make(), make()
    assert a is not b
    a.fit(frame.iloc[:2])
    assert a.fitted and not b.fitted
    assert "not fitted" in repr(b) and "3 features" in repr(a)


def test_column_order_in_the_frame_does_not_matter(frame):
    prep = TabularPreprocessor(["purpose"], ["amount"]).fit(frame)
    assert np.array_equal(prep.transform(frame), prep.transform(frame[frame.columns[::-1]]))


def test_bad_construction():
    with pytest.raises(ValueError, match="at least one"):
        TabularPreprocessor()
    with pytest.raises(ValueError, match="both"):
        TabularPreprocessor(["a"], ["a"])
    with pytest.raises(TypeError):
        TabularPreprocessor([1, 2])
    with pytest.raises(ValueError):
        TabularPreprocessor.factory(["a"], ["a"])


def test_bad_frames(frame):
    prep = TabularPreprocessor(["purpose"], ["amount"])
    with pytest.raises(NotFittedError):
        prep.transform(frame)
    with pytest.raises(NotFittedError):
        _ = prep.feature_names
    with pytest.raises(TypeError, match="DataFrame"):
        prep.fit(frame.to_numpy())
    with pytest.raises(ValueError, match="lacks columns"):
        prep.fit(frame.drop(columns=["purpose"]))
    with pytest.raises(ValueError, match="no rows"):
        prep.fit(frame.iloc[:0])
    with pytest.raises(ValueError, match="non-numbers"):
        TabularPreprocessor(numeric=["purpose"]).fit(frame)
    with pytest.raises(ValueError, match="missing values"):
        prep.fit(frame.assign(amount=[1.0, np.nan, 2.0, 3.0]))
    prep.fit(frame)
    with pytest.raises(ValueError, match="lacks columns"):
        prep.transform(frame[["amount"]])


def test_german_credit_xy_both_codings():
    decoded = pd.DataFrame({"age_in_years": [30, 40, 50], "housing": ["own", "rent", "own"],
                            "creditability": ["good", "bad", "good"]})
    X, y = german_credit_xy(decoded)
    assert list(X.columns) == ["age_in_years", "housing"] and y.tolist() == [0, 1, 0] and y.dtype == np.int64
    raw = decoded.assign(creditability=[1, 2, 1])
    assert german_credit_xy(raw)[1].tolist() == [0, 1, 0]
    X2, _ = german_credit_xy(decoded, drop=["age_in_years"])
    assert list(X2.columns) == ["housing"]
    assert "creditability" in decoded.columns  # the input is not modified
    with pytest.raises(ValueError, match="expected good/bad"):
        german_credit_xy(decoded.assign(creditability=["yes", "no", "yes"]))
    with pytest.raises(ValueError, match="not in the frame"):
        german_credit_xy(decoded, drop=["nope"])
    with pytest.raises(TypeError):
        german_credit_xy(decoded.to_numpy())


def test_german_credit_from_the_mirror():
    from course_lib.data import load_german_credit

    need("german_credit")  # skips only without a mirror; a damaged mirror file fails here
    credit = load_german_credit()
    X, y = german_credit_xy(credit)
    assert X.shape == (1000, 20) and y.sum() == 300
    prep = TabularPreprocessor.from_frame(X)
    assert len(prep.categorical) == 13 and len(prep.numeric) == 7
    assert prep.fit_transform(X).shape == (1000, 61)

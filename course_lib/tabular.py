"""Preprocessing for mixed tabular data: one-hot categorical columns, standardised numeric ones.

The rule this module enforces: every statistic (category list, mean, standard deviation) is
learnt from the *training* rows only, then applied unchanged to validation and test rows.
Fitting on all rows first leaks information from the test fold into training and makes
cross-validated scores optimistic.

.. code-block:: python

    from course_lib.data import load_german_credit
    from course_lib.tabular import TabularPreprocessor, german_credit_xy

    X, y = german_credit_xy(load_german_credit())      # y: 1 = bad credit risk, 0 = good
    prep = TabularPreprocessor.from_frame(X)            # column types inferred from dtypes
    x_train = prep.fit_transform(X.iloc[train_idx])     # learns categories, means, stds
    x_test = prep.transform(X.iloc[test_idx])           # reuses them: no leakage
    prep.feature_names                                  # names of the encoded columns

Inside cross-validation pass ``TabularPreprocessor.factory(categorical, numeric)`` (a function
returning a fresh, unfitted preprocessor) so that each fold fits its own copy; see
:func:`course_lib.evaluation.cross_validate`.
"""

from __future__ import annotations

from typing import Callable, Iterable, Sequence

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import OneHotEncoder, StandardScaler

__all__ = ["infer_column_types", "TabularPreprocessor", "german_credit_xy", "GERMAN_CREDIT_BAD"]

#: Label value of a bad credit risk in the ``y`` returned by :func:`german_credit_xy`.
GERMAN_CREDIT_BAD = 1


def _check_frame(frame: object, name: str = "frame") -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}; "
                        "wrap arrays with pd.DataFrame(...) and name the columns")
    return frame


def infer_column_types(frame: pd.DataFrame, exclude: Iterable[str] = ()) -> tuple[list[str], list[str]]:
    """Split the columns of ``frame`` into ``(categorical, numeric)`` by dtype.

    Strings, ``category`` and booleans count as categorical; integers and floats as numeric.
    Columns named in ``exclude`` (e.g. the target) are left out of both lists.

    Raises:
        TypeError: ``frame`` is not a DataFrame.
        ValueError: a name in ``exclude`` is not a column, or a column has another dtype
            (dates, for example), which needs an explicit decision.
    """
    frame = _check_frame(frame)
    exclude = list(exclude)
    unknown = [c for c in exclude if c not in frame.columns]
    if unknown:
        raise ValueError(f"exclude names columns that do not exist: {unknown}")
    categorical: list[str] = []
    numeric: list[str] = []
    for column in frame.columns:
        if column in exclude:
            continue
        dtype = frame[column].dtype
        if pd.api.types.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype) \
                or pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
            categorical.append(column)
        elif pd.api.types.is_numeric_dtype(dtype):
            numeric.append(column)
        else:
            raise ValueError(f"column {column!r} has dtype {dtype}, neither categorical nor numeric; "
                             "convert it or pass categorical=/numeric= explicitly")
    return categorical, numeric


class TabularPreprocessor:
    """One-hot encode ``categorical`` columns and standardise ``numeric`` ones.

    Standardisation maps each numeric column to :math:`(x - \\mu) / \\sigma` with :math:`\\mu`
    and :math:`\\sigma` of the training rows; one-hot encoding turns a column with *k*
    categories seen in training into *k* 0/1 columns. A category first met at transform time
    becomes all zeros (it is not an error: a new branch office must not crash scoring).

    Args:
        categorical: names of the categorical columns.
        numeric: names of the numeric columns.

    The output is a dense ``float32`` array: numeric columns first, then the one-hot columns,
    named by :attr:`feature_names` (``"purpose=car (new)"`` style for one-hot columns).
    """

    def __init__(self, categorical: Sequence[str] = (), numeric: Sequence[str] = ()):
        categorical, numeric = list(categorical), list(numeric)
        for label, columns in (("categorical", categorical), ("numeric", numeric)):
            if not all(isinstance(c, str) for c in columns):
                raise TypeError(f"{label} must be a sequence of column names (strings), got {columns!r}")
        if not categorical and not numeric:
            raise ValueError("give at least one categorical or numeric column")
        both = sorted(set(categorical) & set(numeric))
        if both:
            raise ValueError(f"columns listed as both categorical and numeric: {both}")
        self.categorical = categorical
        self.numeric = numeric
        self._transformer: ColumnTransformer | None = None

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, exclude: Iterable[str] = ()) -> "TabularPreprocessor":
        """A preprocessor for all columns of ``frame`` (minus ``exclude``), types by dtype."""
        categorical, numeric = infer_column_types(frame, exclude)
        return cls(categorical, numeric)

    @classmethod
    def factory(cls, categorical: Sequence[str] = (),
                numeric: Sequence[str] = ()) -> Callable[[], "TabularPreprocessor"]:
        """A zero-argument function returning a fresh, unfitted preprocessor (one per CV fold)."""
        cls(categorical, numeric)  # validate the column lists now, not inside the first fold
        return lambda: cls(categorical, numeric)

    @property
    def fitted(self) -> bool:
        return self._transformer is not None

    def _check_columns(self, frame: pd.DataFrame) -> None:
        missing = [c for c in self.categorical + self.numeric if c not in frame.columns]
        if missing:
            raise ValueError(f"the frame lacks columns {missing}; it has {list(frame.columns)}")
        if len(frame) == 0:
            raise ValueError("the frame has no rows")
        bad = [c for c in self.numeric if not pd.api.types.is_numeric_dtype(frame[c].dtype)]
        if bad:
            raise ValueError(f"numeric columns {bad} hold non-numbers; list them as categorical instead")
        nan = [c for c in self.categorical + self.numeric if frame[c].isna().any()]
        if nan:
            raise ValueError(f"columns {nan} hold missing values; fill or drop them first (e.g. frame.dropna())")

    def fit(self, frame: pd.DataFrame) -> "TabularPreprocessor":
        """Learn categories, means and standard deviations from the training rows ``frame``."""
        frame = _check_frame(frame)
        self._check_columns(frame)
        parts = []
        if self.numeric:
            parts.append(("num", StandardScaler(), self.numeric))
        if self.categorical:
            parts.append(("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False,
                                               dtype=np.float32), self.categorical))
        transformer = ColumnTransformer(parts, remainder="drop", sparse_threshold=0.0)
        transformer.fit(frame[self.numeric + self.categorical].astype({c: str for c in self.categorical}))
        self._transformer = transformer
        return self

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Encode ``frame`` with the statistics learnt by :meth:`fit`; returns ``float32``."""
        if self._transformer is None:
            raise NotFittedError("call fit(train_frame) before transform(...)")
        frame = _check_frame(frame)
        self._check_columns(frame)
        out = self._transformer.transform(frame[self.numeric + self.categorical]
                                          .astype({c: str for c in self.categorical}))
        return np.asarray(out, dtype=np.float32)

    def fit_transform(self, frame: pd.DataFrame) -> np.ndarray:
        """:meth:`fit` on ``frame`` then :meth:`transform` it."""
        return self.fit(frame).transform(frame)

    @property
    def feature_names(self) -> list[str]:
        """Names of the output columns, in order: numeric names, then ``column=category``."""
        if self._transformer is None:
            raise NotFittedError("the preprocessor is not fitted yet: call fit(train_frame) first")
        names = list(self.numeric)
        if self.categorical:
            encoder = self._transformer.named_transformers_["cat"]
            for column, categories in zip(self.categorical, encoder.categories_):
                names += [f"{column}={value}" for value in categories]
        return names

    @property
    def n_features(self) -> int:
        """Width of the encoded array."""
        return len(self.feature_names)

    def __repr__(self) -> str:
        state = f"{self.n_features} features" if self.fitted else "not fitted"
        return (f"TabularPreprocessor({len(self.categorical)} categorical, "
                f"{len(self.numeric)} numeric, {state})")


def german_credit_xy(frame: pd.DataFrame, target: str = "creditability",
                     drop: Iterable[str] = ()) -> tuple[pd.DataFrame, np.ndarray]:
    """Split the German credit table into features and a 0/1 label (1 = bad credit risk).

    Accepts both codings of :func:`course_lib.data.load_german_credit`: the decoded table
    (target ``"good"``/``"bad"``) and the raw UCI one (target 1 = good, 2 = bad). The bad
    class is the positive class, because that is the event the lender wants to detect.

    Args:
        frame: the table, target column included.
        target: name of the target column.
        drop: further columns to leave out of the features (for example a protected
            attribute such as ``personal_status_and_sex`` in a fairness study).

    Returns:
        ``(X, y)``: the feature columns (a copy) and ``y`` as ``int64`` 0/1.
    """
    frame = _check_frame(frame)
    drop = list(drop)
    missing = [c for c in [target, *drop] if c not in frame.columns]
    if missing:
        raise ValueError(f"columns {missing} are not in the frame")
    labels = frame[target]
    values = set(labels.unique().tolist())
    if values <= {"good", "bad"}:
        y = (labels == "bad").to_numpy(dtype=np.int64)
    elif values <= {1, 2}:
        y = (labels == 2).to_numpy(dtype=np.int64)
    else:
        raise ValueError(f"target {target!r} holds {sorted(map(str, values))}; expected good/bad or 1/2")
    return frame.drop(columns=[target, *drop]).copy(), y

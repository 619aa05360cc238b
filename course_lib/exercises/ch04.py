"""Checks for the code exercises of chapter 04 (Keras MLPs).

- Exercise 1: ``preprocessor_ind()``, the chapter's preprocessing with missing-value indicator columns.
- Exercise 3: ``relu_output(n_features)``, the credit classifier with the article's ReLU output unit.
"""

from __future__ import annotations

from typing import Any

from course_lib.exercises import ExerciseNotSolved

__all__ = ["CHECKS", "check_1", "check_3"]


def _steps(transformer: Any) -> list[Any]:
    steps = getattr(transformer, "steps", None)
    return [step for _, step in steps] if steps is not None else [transformer]


def check_1(answer: Any) -> str:
    """Every imputer of the ColumnTransformer ``answer()`` must have ``add_indicator=True``."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer

    built = answer() if callable(answer) and not hasattr(answer, "transformers") else answer
    if not isinstance(built, ColumnTransformer):
        raise ExerciseNotSolved("preprocessor_ind() should return a ColumnTransformer, like preprocessor() in "
                                f"section 1; got {type(built).__name__}")
    parts = {name: [s for s in _steps(t) if isinstance(s, SimpleImputer)] for name, t, _ in built.transformers}
    without = [name for name, imputers in parts.items() if not imputers]
    if without:
        raise ExerciseNotSolved(f"the {', '.join(without)} part has no SimpleImputer: impute the missing values "
                                "first, as preprocessor(impute=True) does.")
    missing = [name for name, imputers in parts.items() if not all(i.add_indicator for i in imputers)]
    if missing:
        raise ExerciseNotSolved(f"the imputer of the {', '.join(missing)} part has no indicator columns: "
                                "pass add_indicator=True to both SimpleImputers.")
    return "(both imputers add a 0/1 indicator column per feature that had missing values)"


def check_3(answer: Any) -> str:
    """``answer(n)`` must be a Keras model whose last layer is Dense(1) with a ReLU activation."""
    if not callable(answer):
        raise ExerciseNotSolved(f"pass the function relu_output itself, not {type(answer).__name__}")
    model = answer(7)
    layers = getattr(model, "layers", None)
    if not layers:
        raise ExerciseNotSolved(f"relu_output(7) should return a Keras model, got {type(model).__name__}")
    config = layers[-1].get_config()
    if config.get("units") != 1:
        raise ExerciseNotSolved(f"the output layer should be Dense(1), one unit for the two classes; it has "
                                f"{config.get('units')!r} units")
    activation = config.get("activation")
    if activation == "sigmoid":
        raise ExerciseNotSolved("a sigmoid output is the right classifier (section 2); this exercise asks for the "
                                "article's ReLU output: activation=\"relu\" on the last layer.")
    if activation != "relu":
        raise ExerciseNotSolved(f"the output activation should be \"relu\" (the article's choice), got {activation!r}")
    hidden = [layer.get_config().get("units") for layer in layers[:-1]]
    if hidden != [128, 64]:
        raise ExerciseNotSolved(f"keep the article's hidden layers Dense(128) and Dense(64); got {hidden}")
    return "(the article's output: a ReLU unit that is 0 for every negative input)"


CHECKS = {1: check_1, 3: check_3}

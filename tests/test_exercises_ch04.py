"""Chapter 04's checked exercises: the solution passes, the starter and typical wrong answers fail."""

from __future__ import annotations

import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from course_lib.exercises import ExerciseNotSolved, check_exercise


def preprocessor(numeric_indicator=True, categorical_indicator=True, impute=True):
    num = [SimpleImputer(strategy="median", add_indicator=numeric_indicator)] if impute else []
    cat = [SimpleImputer(strategy="most_frequent", add_indicator=categorical_indicator)] if impute else []
    return ColumnTransformer([
        ("numeric", make_pipeline(*num, StandardScaler()), ["a"]),
        ("categorical", make_pipeline(*cat, OneHotEncoder(handle_unknown="ignore")), ["b"]),
    ])


def test_exercise_1_solution_passes(capsys):
    check_exercise("04", 1, preprocessor)
    check_exercise("04", 1, preprocessor())
    assert "indicator" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, message", [
    (lambda: preprocessor(categorical_indicator=False), "imputer of the categorical part has no indicator"),
    (lambda: preprocessor(False, False), "numeric, categorical part"),
    (lambda: preprocessor(impute=False), "has no SimpleImputer"),
    (lambda: SimpleImputer(add_indicator=True), "should return a ColumnTransformer"),
])
def test_exercise_1_wrong_answers_say_why(wrong, message):
    with pytest.raises(ExerciseNotSolved, match=message):
        check_exercise("04", 1, wrong)


def test_exercise_1_starter_is_not_done():
    def starter():
        raise NotImplementedError("Exercise 1: add_indicator=True in both imputers")
    with pytest.raises(ExerciseNotSolved, match="not done yet"):
        check_exercise("04", 1, starter)


class _Layer:
    def __init__(self, units, activation):
        self.config = {"units": units, "activation": activation}

    def get_config(self):
        return dict(self.config)


class _Model:
    def __init__(self, *layers):
        self.layers = [_Layer(u, a) for u, a in layers]


def fake_classifier(output_activation="relu", units=1, hidden=(128, 64)):
    return lambda n_features: _Model(*[(h, "relu") for h in hidden], (units, output_activation))


def test_exercise_3_solution_passes_with_a_real_keras_model(capsys):
    keras = pytest.importorskip("keras")

    def relu_output(n_features):
        return keras.Sequential([keras.Input(shape=(n_features,)), keras.layers.Dense(128, activation="relu"),
                                 keras.layers.Dense(64, activation="relu"), keras.layers.Dense(1, activation="relu")])
    check_exercise("04", 3, relu_output)
    assert "ReLU unit" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, message", [
    (fake_classifier("sigmoid"), "sigmoid output is the right classifier"),
    (fake_classifier("linear"), "should be \"relu\""),
    (fake_classifier(units=2), "should be Dense\\(1\\)"),
    (fake_classifier(hidden=(32,)), "keep the article's hidden layers"),
    (lambda n: "model", "should return a Keras model"),
])
def test_exercise_3_wrong_answers_say_why(wrong, message):
    with pytest.raises(ExerciseNotSolved, match=message):
        check_exercise("04", 3, wrong)


def test_exercise_3_starter_is_not_done():
    def starter(n_features):
        raise NotImplementedError("Exercise 3: activation=\"relu\" on the output layer")
    with pytest.raises(ExerciseNotSolved, match="not done yet"):
        check_exercise("04", 3, starter)

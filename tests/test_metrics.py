import numpy as np
import pytest

from course_lib.metrics import accuracy, confusion_matrix, per_class_accuracy, relative_error


def test_accuracy_and_confusion_matrix():
    y_true = [0, 1, 2, 2, 1]
    y_pred = [0, 2, 2, 2, 1]
    assert accuracy(y_true, y_pred) == pytest.approx(0.8)
    cm = confusion_matrix(y_true, y_pred)
    assert cm.tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 2]]
    assert per_class_accuracy(y_true, y_pred).tolist() == [1.0, 0.5, 1.0]
    assert confusion_matrix(np.array([[1], [0]]), [1, 0], num_classes=3).shape == (3, 3)


@pytest.mark.parametrize("y_pred, message", [([0.2, 0.9], "non-integer"), ([0], "has 1"), ([[0, 1], [1, 0]], "1-D")])
def test_bad_labels(y_pred, message):
    with pytest.raises(ValueError, match=message):
        accuracy([0, 1], y_pred)


def test_relative_error():
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert relative_error([1.0, 2.0], [1.0, 2.2]) == pytest.approx(0.2 / 2.2)
    with pytest.raises(ValueError):
        relative_error([1.0], [1.0, 2.0])

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from course_lib import plots


def test_history_plot_has_titles_and_labels():
    fig = plots.plot_history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8],
                              "val_accuracy": [0.4, 0.7]})
    assert len(fig.axes) == 2
    for ax in fig.axes:
        assert ax.get_xlabel() == "epoch" and ax.get_ylabel() and ax.get_title()
        assert len(ax.lines) == 2
    with pytest.raises(KeyError):
        plots.plot_history({"loss": [1.0]}, metrics=["f1"])
    with pytest.raises(ValueError):
        plots.plot_history({})


def test_image_grid_marks_wrong_predictions():
    images = np.random.default_rng(0).integers(0, 255, size=(3, 8, 8), dtype=np.uint8)
    fig = plots.show_images(images, labels=[0, 1, 1], predictions=[0, 1, 0], class_names=["cat", "dog"], ncols=3)
    colors = [ax.title.get_color() for ax in fig.axes[:3]]
    assert colors == ["green", "green", "red"]
    fig = plots.show_images(images, labels=["real", "fake", "real"], ncols=3)
    assert [ax.get_title() for ax in fig.axes[:3]] == ["real", "fake", "real"]
    fig = plots.show_images(images, labels=np.array([[1], [0], [1]]), class_names=["cat", "dog"])
    assert [ax.get_title() for ax in fig.axes[:3]] == ["dog", "cat", "dog"]
    with pytest.raises(ValueError):
        plots.show_images(images, labels=[0, 1])
    with pytest.raises(ValueError):
        plots.show_images(np.zeros((3, 4)))


def test_confusion_matrix_plot():
    fig = plots.plot_confusion_matrix([0, 1, 1], [0, 1, 0], class_names=["a", "b"], normalize=True)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert [t.get_text() for t in ax.texts] == ["1.00", "0.00", "0.50", "0.50"]

"""course_lib: the helpers behind the course notebooks.

One module per concern, so a helper is easy to find by name.

Shared by every chapter:

- :mod:`course_lib.config`      environment variables, FAST mode, seeds and paths
- :mod:`course_lib.notebook`    the one call a notebook makes at the top (``start``)
- :mod:`course_lib.device`      hardware report, precision policy, XLA, distribution strategy
- :mod:`course_lib.data`        dataset registry, mirror/cache/download look-up, loaders, ``tf.data`` pipelines
- :mod:`course_lib.train`       a thin wrapper over ``model.fit`` (resume, compact progress, timing)
- :mod:`course_lib.plots`       training curves, image grids, confusion matrices
- :mod:`course_lib.metrics`     accuracy, confusion matrix, relative error
- :mod:`course_lib.report`      ``record(name, value)``: machine-readable notebook results
- :mod:`course_lib.runner`      executes notebooks with papermill and summarises them
- :mod:`course_lib.cli`         the ``course`` command (``doctor``, ``run``, ``serve``)

Small helpers the modules above share, one concern each:

- :mod:`course_lib._validate`   argument checks: TypeError for a wrong type, ValueError for a wrong value
- :mod:`course_lib.files`       atomic publishing of files and folders (write aside, then rename)
- :mod:`course_lib.ports`       free TCP ports for the service and the multi-worker launcher
- :mod:`course_lib.tflog`       TensorFlow's start-up noise, silenced in one place (importing ``course_lib``
                                quiets the first ``import tensorflow``; real warnings still show)
- :mod:`course_lib.progress`    a live progress line while a person watches, nothing extra in CI
- :mod:`course_lib.forward`     a Keras model's forward pass compiled once (NumPy in, NumPy out)

Chapter by chapter:

- :mod:`course_lib.backprop`    02: reference NumPy MLP with hand-written backpropagation, gradient check
- :mod:`course_lib.vision`      05: reference convolution and pooling, feature maps, Grad-CAM
- :mod:`course_lib.nlp`         06: attention references, pretrained BERT loading
- :mod:`course_lib.generative`  07: sample grids and the quality score for generated images
- :mod:`course_lib.evaluation`  08: ROC/PR, calibration, cross-validation, cost-based thresholds
- :mod:`course_lib.tabular`     08, 10: one-hot and standardised tabular features
- :mod:`course_lib.serving`     09: the HTTP prediction service behind ``course serve`` (a package)
- :mod:`course_lib.compression` 09: TFLite quantisation, pruning, distillation
- :mod:`course_lib.distributed` 10: multi-worker training in real worker processes
- :mod:`course_lib.federated`   10: non-IID client splits and federated averaging
- :mod:`course_lib.privacy`     10: DP-SGD and its privacy accountant
- :mod:`course_lib.fairness`    10: group fairness metrics and mitigations

Importing the package is cheap: TensorFlow is imported only by the modules that need it, and its
start-up chatter is filtered when it is (:func:`course_lib.tflog.quiet_tensorflow_import`).
"""

from importlib import metadata as _metadata


def _read_version() -> str:
    """The version in ``pyproject.toml``: from the installed distribution's metadata, or, when the
    package is used from a source checkout without being installed, from the file itself."""
    try:
        return _metadata.version("course-lib")
    except _metadata.PackageNotFoundError:
        pass
    from pathlib import Path

    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    try:
        import tomllib

        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    except (ImportError, OSError, ValueError):  # Python 3.10 (no tomllib), no file, or not TOML
        return "0+unknown"
    return str(project["version"]) if project.get("name") == "course-lib" and "version" in project else "0+unknown"


#: The package version; ``pyproject.toml`` is its only source.
__version__ = _read_version()

from course_lib import tflog as _tflog  # noqa: E402 - after the version: it needs nothing above

_tflog.quiet_tensorflow_import()

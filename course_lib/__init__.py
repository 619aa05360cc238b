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

Chapter by chapter:

- :mod:`course_lib.backprop`    02: reference NumPy MLP with hand-written backpropagation, gradient check
- :mod:`course_lib.vision`      05: reference convolution and pooling, feature maps, Grad-CAM
- :mod:`course_lib.nlp`         06: attention references, pretrained BERT loading
- :mod:`course_lib.generative`  07: sample grids and the quality score for generated images
- :mod:`course_lib.evaluation`  08: ROC/PR, calibration, cross-validation, cost-based thresholds
- :mod:`course_lib.tabular`     08, 10: one-hot and standardised tabular features
- :mod:`course_lib.serving`     09: the HTTP prediction service behind ``course serve``
- :mod:`course_lib.compression` 09: TFLite quantisation, pruning, distillation
- :mod:`course_lib.distributed` 10: multi-worker training in real worker processes
- :mod:`course_lib.federated`   10: non-IID client splits and federated averaging
- :mod:`course_lib.privacy`     10: DP-SGD and its privacy accountant
- :mod:`course_lib.fairness`    10: group fairness metrics and mitigations

Importing the package is cheap: TensorFlow is imported only by the modules that need it.
"""

__version__ = "0.1.0"

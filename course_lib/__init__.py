"""course_lib: the helpers behind the course notebooks.

One module per concern, so a helper is easy to find by name:

- :mod:`course_lib.config`   environment variables, FAST mode, seeds, paths
- :mod:`course_lib.device`   hardware report, precision policy, XLA, distribution strategy
- :mod:`course_lib.data`     dataset registry, mirror/cache/download look-up, loaders, ``tf.data`` pipelines
- :mod:`course_lib.train`    a thin wrapper over ``model.fit`` (resume, compact progress, timing)
- :mod:`course_lib.plots`    training curves, image grids, confusion matrices
- :mod:`course_lib.report`   ``record(name, value)``: machine-readable notebook results
- :mod:`course_lib.notebook` the one call a notebook makes at the top (``start``)
- :mod:`course_lib.runner`   executes notebooks with papermill and summarises them
- :mod:`course_lib.cli`      the ``course`` command (``doctor``, ``run``, ``serve``)

Importing the package is cheap: TensorFlow is imported only by the modules that need it.
"""

__version__ = "0.1.0"

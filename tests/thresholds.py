"""Every threshold the notebooks' recorded metrics must meet, in one place.

``THRESHOLDS[notebook][mode][metric] = (op, value)`` with ``op`` one of ``>=``, ``<=``, ``==``.
``mode`` is ``"fast"`` (what CI runs) or ``"full"`` (what a learner runs; checked when the
test-suite runs with ``COURSE_FAST=0``). Every notebook in ``notebooks/`` must have an entry,
and every metric named here must be recorded by the notebook. Values come from the course's
issues and published reference results, never from tuning a threshold until it passes.
"""

THRESHOLDS: dict[str, dict[str, dict[str, tuple[str, float]]]] = {
    "00_setup": {
        # resumed_epochs: interrupted after 1 of 3 epochs, the resumed run must do exactly the other 2
        "fast": {"datasets_available": (">=", 1), "tensorflow_matmul_ok": ("==", 1), "resumed_epochs": ("==", 2),
                 "val_accuracy": (">=", 0.80)},
        "full": {"datasets_available": (">=", 1), "tensorflow_matmul_ok": ("==", 1), "resumed_epochs": ("==", 2),
                 "val_accuracy": (">=", 0.96)},
    },
    "01_concepts": {
        # the scaling experiment: the largest model must beat the smallest on validation loss,
        # and more data must help the same model
        "fast": {"scaling_width_loss_ratio": ("<=", 0.95), "scaling_data_loss_ratio": ("<=", 0.95),
                 "largest_model_val_accuracy": (">=", 0.85)},
        "full": {"scaling_width_loss_ratio": ("<=", 0.9), "scaling_data_loss_ratio": ("<=", 0.9),
                 "largest_model_val_accuracy": (">=", 0.95)},
    },
    # --- 02_backprop_math, 03_linear_regression, 04_keras_mlp ---
    # --- 05_cnn ---
    # --- 06_nlp_bert ---
    # --- 07_generative ---
    # --- 08_applications ---
    # --- 09_deployment ---
    # --- 10_scale_and_responsibility ---
}

"""Every threshold the notebooks' recorded metrics must meet, in one place.

``THRESHOLDS[notebook][mode][metric] = (op, value)`` with ``op`` one of ``>=``, ``<=``, ``==``.
``mode`` is ``"fast"`` (what CI runs) or ``"full"`` (what a learner runs; checked when the
test-suite runs with ``COURSE_FAST=0``). Every notebook in ``notebooks/`` must have an entry,
and every metric named here must be recorded by the notebook. Values come from the course's
issues and published reference results, never from tuning a threshold until it passes.
"""

from __future__ import annotations

import math
import operator
from typing import Union

# (op, value): the metric against a constant; (op, other, offset): against another metric recorded
# in the same run plus an offset, e.g. ("<=", "bigram_val_loss", -0.1) or (">=", "untrained_score", 0.2)
Bound = Union[tuple[str, float], tuple[str, str, float]]
OPERATORS = {">=": operator.ge, "<=": operator.le, "==": operator.eq}


def threshold_failures(metrics: dict[str, float], expected: dict[str, Bound]) -> list[str]:
    """One message per threshold in ``expected`` that ``metrics`` misses; empty when all hold."""
    failures = []
    for name, bound in expected.items():
        op = bound[0]
        if op not in OPERATORS:
            failures.append(f"{name}: unknown operator {op!r}")
            continue
        if name not in metrics:
            failures.append(f"{name} was not recorded")
            continue
        if len(bound) == 3:
            other, offset = bound[1], float(bound[2])
            if other not in metrics:
                failures.append(f"{other} was not recorded (needed to check {name})")
                continue
            limit, described = metrics[other] + offset, f"{other} {'+' if offset >= 0 else '-'} {abs(offset):g}"
            described += f" = {limit:.6g}"
        else:
            limit = described = bound[1]
        value = metrics[name]
        if math.isnan(value) or not OPERATORS[op](value, limit):
            failures.append(f"{name} = {value:.6g}, expected {op} {described}")
    return failures


# Chapter 09's claim about distillation at its size and budget: the distilled student copies the teacher
# (KL from the teacher's softened predictions well below the student trained alone: FAST ratios 0.40, 0.26,
# 0.45 over seeds 42, 1, 2), and gives no accuracy gain: at most 4 points worse (FAST: -0.020, -0.016,
# -0.012; the full run measured 0.0), at most 2 points better (about two standard errors on 2 000 test
# images). A gain beyond that would contradict the chapter's text, which must then change.
DISTILLATION_CLAIM: dict[str, Bound] = {
    "distillation_teacher_kl_ratio": ("<=", 0.6),
    "student_distilled_accuracy": (">=", "student_alone_accuracy", -0.04),
    "distillation_gain": ("<=", 0.02),
}

# Chapter 11's exactness claims, the same in both modes: hand-written causal attention equals Keras'
# (float32 rounding), changing token t leaves every earlier output bit-identical and changes the output
# at t, the parameter formula is exact, the KV cache gives recomputation's logits and tokens, the
# hand-written LoRA layer equals Dense.enable_lora, and LoRA trains under 2 % of the classifier's weights.
GPT_EXACTNESS: dict[str, Bound] = {
    "attention_max_diff_vs_keras": ("<=", 1e-5), "attention_max_diff_package": ("<=", 1e-5),
    "causal_change_before_t": ("==", 0.0), "causal_change_at_t": (">=", 1e-3),
    "gpt_parameter_formula_error": ("==", 0.0),
    "kv_cache_max_logit_diff": ("<=", 1e-4), "kv_cache_same_tokens": ("==", 1.0),
    "lora_max_diff_vs_keras": ("<=", 1e-4), "lora_trainable_share": ("<=", 0.02),
    "poem_form_score_real": ("==", 1.0),
}

THRESHOLDS: dict[str, dict[str, dict[str, Bound]]] = {
    "00_setup": {
        # every registered dataset must be found (mirror or cache) without a download;
        # resumed_epochs: interrupted after 1 of 3 epochs (FAST) or 5 (full), the resumed run must do
        # exactly the others
        "fast": {"datasets_missing": ("==", 0), "tensorflow_matmul_ok": ("==", 1), "resumed_epochs": ("==", 2),
                 "val_accuracy": (">=", 0.80)},
        "full": {"datasets_missing": ("==", 0), "tensorflow_matmul_ok": ("==", 1), "resumed_epochs": ("==", 4),
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
    # 02: gradient checks (issue 3: relative error < 1e-6 in float64, for each activation) and the
    # NumPy MLP on scikit-learn's digits (>= 0.95 in full mode; FAST trains 600 images for 8 epochs)
    "02_backprop_math": {
        "fast": {"gradcheck_rel_error_sigmoid": ("<=", 1e-6), "gradcheck_rel_error_tanh": ("<=", 1e-6),
                 "gradcheck_rel_error_relu": ("<=", 1e-6), "keras_grad_rel_error_sigmoid": ("<=", 1e-6),
                 "keras_grad_rel_error_tanh": ("<=", 1e-6), "keras_grad_rel_error_relu": ("<=", 1e-6),
                 "digits_test_accuracy": (">=", 0.85)},
        "full": {"gradcheck_rel_error_sigmoid": ("<=", 1e-6), "gradcheck_rel_error_tanh": ("<=", 1e-6),
                 "gradcheck_rel_error_relu": ("<=", 1e-6), "keras_grad_rel_error_sigmoid": ("<=", 1e-6),
                 "keras_grad_rel_error_tanh": ("<=", 1e-6), "keras_grad_rel_error_relu": ("<=", 1e-6),
                 "digits_test_accuracy": (">=", 0.95)},
    },
    # 03: the four methods agree (max relative difference < 1e-3); the known line of data.csv is
    # recovered within 3 standard errors and its noise std within 20 % (3 standard errors of a
    # std estimated from 160 points is 17 %); the summed-gradient loop must visibly diverge; the
    # all-feature diabetes model must explain a clear share of held-out variance (Efron et al. 2004
    # report R^2 = 0.52 in sample; 0 is the mean predictor)
    "03_linear_regression": {
        mode: {"max_rel_diff_csv": ("<=", 1e-3), "max_rel_diff_diabetes_bmi": ("<=", 1e-3),
               "max_rel_diff_diabetes_all": ("<=", 1e-3), "csv_slope_error_in_se": ("<=", 3.0),
               "csv_intercept_error_in_se": ("<=", 3.0), "csv_noise_std_rel_error": ("<=", 0.2),
               "summed_gradient_loss_growth": (">=", 10.0), "diabetes_all_test_r2": (">=", 0.3)}
        for mode in ("fast", "full")
    },
    # 04: MNIST MLP 784-256-128-10 (issue 3: >= 0.980 full, >= 0.95 FAST); the credit classifier's
    # ROC AUC clearly above chance (0.5)
    "04_keras_mlp": {
        "fast": {"mnist_test_accuracy": (">=", 0.95), "credit_test_auc": (">=", 0.70)},
        "full": {"mnist_test_accuracy": (">=", 0.980), "credit_test_auc": (">=", 0.70)},
    },
    # --- 05_cnn ---
    # issue 4: NumPy conv/pool match Keras to 1e-5; full mode MNIST >= 0.99, Fashion-MNIST >= 0.90,
    # cats vs dogs with augmentation >= 0.75, CIFAR-10 ResNet >= 0.88 (GPU). FAST trains 2 epochs on
    # small subsets: its bounds are "clearly above chance": 10 classes -> 0.1, so >= 0.2 to 0.8;
    # 2 classes on 1 000 test photos -> 0.5 +- 0.016, so >= 0.55 (3 standard errors). The issue sets
    # no target for transfer, and FAST's 2-epoch CIFAR backbone is too weak for its transfer results
    # to differ from chance, so FAST bounds none of them. Full mode asks what section 5 teaches:
    # transfer beats training from scratch on the same photos and budget by more than noise (two
    # accuracies on 2 000 test photos: standard error of the difference <= 0.016, so >= 0.05).
    "05_cnn": {
        "fast": {"conv_numpy_vs_keras_max_abs_diff": ("<=", 1e-5), "maxpool_numpy_vs_keras_max_abs_diff": ("<=", 1e-5),
                 "mnist_test_accuracy": (">=", 0.8), "fashion_mnist_test_accuracy": (">=", 0.6),
                 "cats_dogs_scratch_test_accuracy": (">=", 0.55), "cats_dogs_augmented_test_accuracy": (">=", 0.55),
                 "cifar10_resnet_test_accuracy": (">=", 0.2), "gradcam_wrong_predictions_shown": (">=", 1)},
        "full": {"conv_numpy_vs_keras_max_abs_diff": ("<=", 1e-5), "maxpool_numpy_vs_keras_max_abs_diff": ("<=", 1e-5),
                 "mnist_test_accuracy": (">=", 0.99), "fashion_mnist_test_accuracy": (">=", 0.9),
                 "cats_dogs_augmented_test_accuracy": (">=", 0.75), "cifar10_resnet_test_accuracy": (">=", 0.88),
                 "transfer_gain_over_scratch": (">=", 0.05), "gradcam_wrong_predictions_shown": (">=", 1)},
    },
    # --- 06_nlp_bert ---
    "06_nlp_bert": {
        # issue 5: attention from scratch agrees with keras.layers.MultiHeadAttention to < 1e-5 (and
        # the corrected RNN recurrence with SimpleRNN); RNN and Transformer >= 0.85 IMDB test
        # accuracy and BERT >= 0.86 SST-2 dev accuracy and F1 in full mode (BERT-Mini 85.9,
        # Turc et al. 2019); the MLM loss must fall. FAST trains on 2 000 reviews / 480 sentences:
        # 0.6 is far above chance (0.5; 6 standard errors on 1 000 test reviews, 2.8 on 200 dev
        # sentences) and above a constant guess's macro F1 (0.34). BERT FAST over seeds 42, 1, 2, 0, 7, 123
        # with 30 steps: dev accuracy 0.805 / 0.785 / 0.805 / 0.755 / 0.75 / 0.775, macro F1 0.805 / 0.784 /
        # 0.804 / 0.755 / 0.749 / 0.773 (with the earlier 20 steps seed 7 gave 0.575 and seed 0 0.64).
        "fast": {"simple_rnn_max_abs_diff": ("<=", 1e-5), "mha_max_abs_diff": ("<=", 1e-5),
                 "mha_scores_max_abs_diff": ("<=", 1e-5), "rnn_test_accuracy": (">=", 0.6),
                 "transformer_test_accuracy": (">=", 0.6), "mlm_loss_ratio": ("<=", 0.9),
                 "bert_dev_accuracy": (">=", 0.6), "bert_dev_macro_f1": (">=", 0.6)},
        "full": {"simple_rnn_max_abs_diff": ("<=", 1e-5), "mha_max_abs_diff": ("<=", 1e-5),
                 "mha_scores_max_abs_diff": ("<=", 1e-5), "rnn_test_accuracy": (">=", 0.85),
                 "transformer_test_accuracy": (">=", 0.85), "mlm_loss_ratio": ("<=", 0.9),
                 "bert_dev_accuracy": (">=", 0.86), "bert_dev_macro_f1": (">=", 0.86)},
    },
    # --- 07_generative ---
    "07_generative": {
        # FAST: the VAE's test loss well below its value at initialisation (~543 nats = 784 log 2),
        # a judge far above chance (0.1) that labels real digits confidently and evenly, and a
        # trained generator measured against the untrained one by the same judge: its samples spread
        # over the classes (the untrained one's grey noise, like an "average digit", is all one class;
        # a collapsed generator is mostly one), the judge is more confident about them, and their mean
        # image has moved most of the way from uniform grey to a digit's. FAST GAN over seeds 42, 1, 2, 3, 4
        # (400 updates at 5e-4): class entropy 0.92 / 0.93 / 0.91 / 0.89 / 0.94 (untrained 0, 0.16 for
        # seed 4), largest class 0.19 / 0.20 / 0.19 / 0.23 / 0.18 (untrained 1.0, 0.88 for seed 4), mean
        # confidence 0.58 / 0.62 / 0.63 / 0.66 / 0.69 against the untrained generator's 0.46 / 0.53 /
        # 0.43 / 0.50 / 0.39. (With the earlier 120 updates at 2e-4: entropy 0.47 and 0.55, confidence
        # 0.31 and 0.21, below the untrained generator's.)
        "fast": {"vae_loss_ratio_to_init": ("<=", 0.5), "judge_test_accuracy": (">=", 0.9),
                 "real_confident_share": (">=", 0.7), "real_class_entropy": (">=", 0.95),
                 "gan_class_entropy": (">=", "gan_untrained_class_entropy", 0.5),
                 "gan_largest_class_share": ("<=", "gan_untrained_largest_class_share", -0.5),
                 "gan_mean_confidence": (">=", "gan_untrained_mean_confidence", 0.05),
                 "gan_mean_image_distance_ratio": ("<=", 0.5)},
        # full: issue 6 (test total loss <= 155 nats per image; keras.io reports ~147); a judge at
        # MNIST-CNN accuracy; a GAN whose samples are recognisable digits of every class.
        # Measured (judge and GAN sections, 32-filter judge for 6 epochs, 9 000 GAN updates): judge 0.989,
        # real confident share 0.962, GAN confident share 0.592, class entropy 0.970, distance ratio 0.050.
        "full": {"vae_test_total_loss": ("<=", 155.0), "vae_loss_ratio_to_init": ("<=", 0.5),
                 "judge_test_accuracy": (">=", 0.98), "real_confident_share": (">=", 0.95),
                 "real_class_entropy": (">=", 0.95), "gan_confident_share": (">=", 0.3),
                 "gan_class_entropy": (">=", 0.9), "gan_mean_image_distance_ratio": ("<=", 0.25)},
    },
    # --- 08_applications ---
    # Issue targets (full mode): credit MLP 5-fold CV ROC AUC >= 0.75; breast-cancer ROC AUC >= 0.98;
    # matrix factorisation test RMSE <= 0.95 and better than the global-mean and bias baselines;
    # sentiment accuracy >= 0.85. Other bounds are "clearly above chance": AUC 0.5, all-positive F1 0.5
    # on waimai, majority-class accuracy 0.667. Baselines from the same run: the cost-chosen threshold
    # must beat the 0.5 threshold and the cheaper trivial policy (refuse or accept everyone) by a clear
    # margin per applicant (0.05 is about one standard error on 200 test applicants); matrix
    # factorisation must beat the global mean and the biases on RMSE (paired RMSE differences on 10 000
    # test ratings have a standard error near 0.002) and random top-10 lists on hit rate; and, as the
    # chapter says, the popularity list beats it on hit rate (a model trained on RMSE is no ranker).
    # Three seeds (42, 1, 2), FAST: chosen cost 0.56 / 0.47 / 0.625 vs 0.70 trivial; saving
    # 0.495 / 0.40 / 0.52; MF gain over biases 0.019 / 0.020 / 0.017; hit rate MF 0.46 / 0.48 / 0.46,
    # popularity 0.65 / 0.65 / 0.66, random 0.08 / 0.08 / 0.07.
    "08_applications": {
        "fast": {"credit_mlp_cv_auc": (">=", 0.70), "credit_logistic_cv_auc": (">=", 0.70),
                 "credit_test_cost_saving": (">=", 0.2),
                 "credit_test_cost_chosen_threshold": ("<=", "credit_test_cost_best_trivial", -0.05),
                 "cancer_test_auc": (">=", 0.97),
                 "rec_mf_rmse": ("<=", 1.0), "rec_mf_gain_over_global": (">=", 0.1),
                 "rec_mf_gain_over_bias": (">=", 0.005),
                 "rec_mf_hit_rate_at_10": (">=", "rec_random_hit_rate_at_10", 0.2),
                 "rec_popularity_hit_rate_at_10": (">=", "rec_mf_hit_rate_at_10", 0.05),
                 "sentiment_test_accuracy": (">=", 0.75), "sentiment_test_f1": (">=", 0.6)},
        "full": {"credit_mlp_cv_auc": (">=", 0.75), "credit_logistic_cv_auc": (">=", 0.70),
                 "credit_test_cost_saving": (">=", 0.2),
                 "credit_test_cost_chosen_threshold": ("<=", "credit_test_cost_best_trivial", -0.05),
                 "cancer_test_auc": (">=", 0.98),
                 "rec_mf_rmse": ("<=", 0.95), "rec_mf_gain_over_global": (">=", 0.1),
                 "rec_mf_gain_over_bias": (">=", 0.01),
                 "rec_mf_hit_rate_at_10": (">=", "rec_random_hit_rate_at_10", 0.2),
                 "sentiment_test_accuracy": (">=", 0.85), "sentiment_test_f1": (">=", 0.6)},
    },
    # --- 09_deployment ---
    "09_deployment": {
        # export and service must reproduce in-process predictions; every bad request a 4xx (issue 8);
        # int8: at most 1 point below float32 and at least 3.5x smaller (issue 8); pruning to the stated 80 %
        "fast": {"test_accuracy": (">=", 0.85), "keras_reload_max_abs_diff": ("<=", 1e-6),
                 "savedmodel_max_abs_diff": ("<=", 1e-5), "service_max_abs_diff": ("<=", 1e-5),
                 "bad_requests_rejected_share": (">=", 1.0), "int8_accuracy_drop": ("<=", 0.01),
                 "int8_size_ratio": (">=", 3.5), "pruned_sparsity": (">=", 0.79), "pruned_accuracy": (">=", 0.85),
                 "student_alone_accuracy": (">=", 0.8), "student_distilled_accuracy": (">=", 0.8),
                 **DISTILLATION_CLAIM},
        "full": {"test_accuracy": (">=", 0.97), "keras_reload_max_abs_diff": ("<=", 1e-6),
                 "savedmodel_max_abs_diff": ("<=", 1e-5), "service_max_abs_diff": ("<=", 1e-5),
                 "bad_requests_rejected_share": (">=", 1.0), "int8_accuracy_drop": ("<=", 0.01),
                 "int8_size_ratio": (">=", 3.5), "pruned_sparsity": (">=", 0.79), "pruned_accuracy_drop": ("<=", 0.01),
                 "student_alone_accuracy": (">=", 0.93), "student_distilled_accuracy": (">=", 0.93),
                 **DISTILLATION_CLAIM},
    },
    # --- 10_scale_and_responsibility ---
    "10_scale_and_responsibility": {
        # issue 9: one device vs two replicas reach the same accuracy (weights equal up to float
        # rounding); two real workers end with identical weights; FedAvg over >= 10 non-IID
        # clients vs centralised (fedavg_*_accuracy: the chapter's recipe, FedAvg with server
        # momentum 0.9, issue 25; plain FedAvg is recorded as fedavg_plain_*);
        # DP-SGD accuracy and epsilon (single-digit epsilon is a meaningful
        # guarantee); fairness: the four-fifths rule (disparate impact >= 0.8) after mitigation.
        # Chance on MNIST is 0.1; always predicting "good credit" gives AUC 0.5.
        "fast": {"dp_one_device_test_accuracy": (">=", 0.8), "dp_accuracy_difference": ("<=", 0.01),
                 "dp_max_weight_difference": ("<=", 1e-5),
                 "multiworker_weights_identical": (">=", 1), "multiworker_test_accuracy": (">=", 0.6),
                 "fedavg_num_clients": (">=", 10), "fedavg_noniid_accuracy": (">=", 0.4),
                 "fedavg_iid_accuracy": (">=", 0.7), "centralised_accuracy": (">=", 0.85),
                 "dp_nonprivate_accuracy": (">=", 0.85), "dp_accuracy_noise_1.0": (">=", 0.6),
                 "dp_epsilon_noise_1.0": ("<=", 10),
                 "credit_test_auc": (">=", 0.7), "fairness_tpr_gap_group_thresholds": ("<=", 0.1),
                 "fairness_disparate_impact_group_thresholds": (">=", 0.8)},
        "full": {"dp_one_device_test_accuracy": (">=", 0.95), "dp_accuracy_difference": ("<=", 0.01),
                 "multiworker_weights_identical": (">=", 1), "multiworker_test_accuracy": (">=", 0.9),
                 "fedavg_num_clients": (">=", 10), "fedavg_noniid_accuracy": (">=", 0.9),
                 "fedavg_iid_accuracy": (">=", 0.95), "centralised_accuracy": (">=", 0.95),
                 "dp_nonprivate_accuracy": (">=", 0.95), "dp_accuracy_noise_1.0": (">=", 0.9),
                 "dp_epsilon_noise_1.0": ("<=", 10),
                 "credit_test_auc": (">=", 0.7), "fairness_tpr_gap_group_thresholds": ("<=", 0.1),
                 "fairness_disparate_impact_group_thresholds": (">=", 0.8)},
    },
    # --- 11_gpt ---
    "11_gpt": {
        # issue 23: attention written by hand equals Keras' causal MultiHeadAttention (<= 1e-5) and the
        # future cannot change the past (exactly 0); the KV cache reproduces recomputation (<= 1e-4);
        # the GPT beats the bigram counts of the same split, the poem model beats the bigram on the
        # quatrain form; LoRA trains under 2 % of the weights. FAST seed 42: GPT 2.269 vs bigram 2.482
        # (untrained 4.209), poem form 0.825 vs 0, LoRA 0.75 and full fine-tuning 0.805 vs majority 0.51.
        "fast": {**GPT_EXACTNESS,
                 "gpt_untrained_val_loss": ("<=", "uniform_val_loss", 0.2),
                 "gpt_val_loss": ("<=", "bigram_val_loss", -0.1),
                 "distinct3_greedy": ("<=", "distinct3_temperature_10", -0.1),
                 "poem_gpt_val_loss": ("<=", "poem_bigram_val_loss", -0.5),
                 "poem_form_score_gpt": (">=", "poem_form_score_bigram", 0.3),
                 "full_ft_dev_accuracy": (">=", "sst_dev_majority_accuracy", 0.15),
                 "lora_dev_accuracy": (">=", "sst_dev_majority_accuracy", 0.1)},
        # full mode: validation loss at most 1.75 nats per character (nanoGPT's CPU config: 1.88), LoRA
        # within 2 points of full fine-tuning, measured the same way
        "full": {**GPT_EXACTNESS,
                 "gpt_val_loss": ("<=", 1.75),
                 "distinct3_greedy": ("<=", "distinct3_temperature_10", -0.1),
                 "poem_gpt_val_loss": ("<=", "poem_bigram_val_loss", -1.0),
                 "poem_form_score_gpt": (">=", "poem_form_score_bigram", 0.5),
                 "full_ft_dev_accuracy": (">=", 0.85),
                 "lora_dev_accuracy": (">=", "full_ft_dev_accuracy", -0.02)},
    },
}

"""Make ``data/data.csv``: the two-column (x, y) file that article 000 §5 reads.

The article never says what is in its ``data.csv``. Chapter 03 needs a file whose answer is
known, so this script draws one from a known straight line plus Gaussian noise:

    y = TRUE_SLOPE * x + TRUE_INTERCEPT + noise,   noise ~ N(0, NOISE_STD^2)

with ``TRUE_SLOPE = 2.5``, ``TRUE_INTERCEPT = -1.0``, ``NOISE_STD = 2.0``, ``N = 200`` points,
``x`` uniform on [0, 10) and NumPy generator seed ``SEED = 2024``. Chapter 03 fits a line to the
file with four methods and checks that it recovers the slope and intercept within their
standard errors (the noise makes an exact recovery impossible).

Run from the project root (the output is the same on every run)::

    python data/make_data_csv.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

TRUE_SLOPE = 2.5
TRUE_INTERCEPT = -1.0
NOISE_STD = 2.0
N = 200
X_RANGE = (0.0, 10.0)
SEED = 2024


def make_points(n: int = N, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points of the known line plus noise, reproducible from ``seed``."""
    if n < 3:
        raise ValueError(f"n must be at least 3 to fit and test a line, got {n}")
    rng = np.random.default_rng(seed)
    x = rng.uniform(*X_RANGE, size=n)
    y = TRUE_SLOPE * x + TRUE_INTERCEPT + rng.normal(0.0, NOISE_STD, size=n)
    return x, y


def write_csv(path: Path, n: int = N, seed: int = SEED) -> Path:
    """Write the points to ``path`` as a CSV with a header ``x,y`` (6 decimals)."""
    x, y = make_points(n, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["x,y"] + [f"{a:.6f},{b:.6f}" for a, b in zip(x, y)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "data.csv")
    args = parser.parse_args()
    out = write_csv(args.out)
    print(f"wrote {N} points to {out}")
    print(f"true line: y = {TRUE_SLOPE} * x + {TRUE_INTERCEPT}, noise std {NOISE_STD}, "
          f"x uniform on {X_RANGE}, seed {SEED}")


if __name__ == "__main__":
    main()

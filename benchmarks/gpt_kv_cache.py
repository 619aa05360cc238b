"""Time chapter 11's GPT generating text with and without the key/value cache.

Builds an untrained ``course_lib.gpt.GPT`` (the timings do not depend on the weights), compiles
its full forward pass and its cached one-token step once with ``gpt.forward_functions`` (not
timed), then for each number of new tokens runs ``gpt.generate`` from a one-token prompt with
the cache and without it, alternating which goes first, and prints the median tokens per second
of each, their ratio and the largest difference between the two runs' logits (the cache must not
change them). Without the cache every step reruns the model over the whole sequence so far, so the
ratio grows with the number of new tokens. Uses only ``course_lib.gpt``: it runs on any Keras
backend. A benchmark, not a test: it asserts nothing.

    python benchmarks/gpt_kv_cache.py --depth 4 --width 128 --heads 4 --context 512 --new-tokens 256,448
"""

from __future__ import annotations

import argparse
import statistics
from typing import Any

import keras
import numpy as np

from course_lib import gpt


def new_tokens_argument(text: str) -> list[int]:
    """``"256,448"`` -> ``[256, 448]``; positive integers only."""
    try:
        values = [int(part) for part in text.split(",")]
    except ValueError:
        values = []
    if not values or any(value < 1 for value in values):
        raise ValueError(f"--new-tokens must be positive integers separated by commas, got {text!r}.")
    return values


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=4, help="Transformer blocks")
    parser.add_argument("--width", type=int, default=128, help="embedding width")
    parser.add_argument("--heads", type=int, default=4, help="attention heads (must divide --width)")
    parser.add_argument("--context", type=int, default=512, help="the model's context in tokens")
    parser.add_argument("--vocab", type=int, default=65, help="vocabulary size (65: Tiny Shakespeare's characters)")
    parser.add_argument("--new-tokens", default="256,448", help="numbers of tokens to generate, comma-separated")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each kind (the median is printed)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for name in ("depth", "width", "heads", "context", "vocab", "repeats"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name} must be at least 1, got {getattr(args, name)}.")
    if args.width % args.heads:
        raise ValueError(f"--width ({args.width}) must be a multiple of --heads ({args.heads}).")
    args.new_tokens = new_tokens_argument(args.new_tokens)
    too_many = [n for n in args.new_tokens if n + 1 > args.context]
    if too_many:
        raise ValueError(f"--new-tokens {too_many[0]} plus the one-token prompt exceed --context {args.context}; "
                         f"generate at most {args.context - 1} tokens.")
    return args


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    args = parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    model = gpt.GPT(vocab_size=args.vocab, context=args.context, width=args.width, depth=args.depth,
                    heads=args.heads)
    model.build()
    functions = gpt.forward_functions(model)          # compiled on first use, inside generate, before its clock
    prompt = [int(np.random.default_rng(args.seed).integers(args.vocab))]
    print(f"GPT depth {args.depth}, width {args.width}, heads {args.heads}, context {args.context}, "
          f"vocab {args.vocab}: {model.count_params():,} parameters; Keras backend {keras.backend.backend()}; "
          f"median of {args.repeats} run(s)")
    results = []
    for new in args.new_tokens:
        speed: dict[bool, list[float]] = {True: [], False: []}
        difference, same_tokens = 0.0, True
        for repeat in range(args.repeats):
            # alternate which goes first, so warm-up and drifting load do not favour either
            runs = {}
            for use_cache in ((True, False) if repeat % 2 == 0 else (False, True)):
                runs[use_cache] = gpt.generate(model, prompt, new, use_cache=use_cache, functions=functions)
                speed[use_cache].append(runs[use_cache].tokens_per_second)
            difference = max(difference, float(np.abs(runs[True].logits - runs[False].logits).max()))
            same_tokens = same_tokens and runs[True].tokens == runs[False].tokens
        cached, plain = statistics.median(speed[True]), statistics.median(speed[False])
        results.append(dict(new_tokens=new, cache_tokens_per_s=cached, no_cache_tokens_per_s=plain,
                            ratio=cached / plain, max_logit_difference=difference, same_tokens=same_tokens))
        print(f"{new:5d} new tokens: cache {cached:9.1f} tokens/s, no cache {plain:9.1f} tokens/s, "
              f"ratio {cached / plain:6.2f}x, max |logit difference| {difference:.2e}, "
              f"same tokens: {'yes' if same_tokens else 'no'}")
    return results


if __name__ == "__main__":
    main()

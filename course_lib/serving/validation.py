"""Validation of ``/predict`` requests: NumPy and the standard library only.

:func:`parse_predict_body` turns the raw bytes and ``Content-Type`` of a request into a float
(or integer) batch the model can take, or raises :class:`RequestError` with the HTTP status
and a message saying what was wrong and how to fix it. Nothing here imports TensorFlow or
FastAPI, so the rules can be tested (and reused) without either.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from course_lib._validate import check_shape

__all__ = ["DEFAULT_MAX_BODY_BYTES", "DEFAULT_MAX_BATCH", "FLOAT32_MAX", "RequestError", "InputSpec",
           "find_problem", "parse_predict_body"]

DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024
DEFAULT_MAX_BATCH = 256
FLOAT32_MAX = float(np.finfo(np.float32).max)


class RequestError(Exception):
    """A client error: ``status`` is the HTTP status (4xx), ``message`` says what to fix."""

    def __init__(self, status: int, message: str):
        if not 400 <= status < 500:
            raise ValueError(f"RequestError is for client errors (4xx), got status {status}")
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class InputSpec:
    """What one example must look like.

    Attributes:
        shape: the example's shape without the batch axis; None is a free dimension (any size).
        dtype: the model input's dtype; integer dtypes refuse fractions.
        vocabulary: when the input feeds an ``Embedding`` with ``input_dim`` rows, that number:
            every value must then be an integer index from 0 to ``vocabulary - 1``.
        min_size: the smallest size each free dimension may have (1 when any size works; larger
            when, say, a valid convolution needs a few pixels). One entry per dimension of
            ``shape``; the entries of fixed dimensions are ignored. Default: 1 everywhere.
    """

    shape: tuple[int | None, ...]
    dtype: str = "float32"
    vocabulary: int | None = None
    min_size: tuple[int, ...] | None = None

    def __post_init__(self):
        check_shape("shape", self.shape, allow_none=True,
                    expected="a tuple whose every dimension is a positive integer or None")
        try:
            kind = np.dtype(self.dtype).kind
        except TypeError:
            kind = "?"
        if kind not in "fiu":
            raise ValueError(f"only numeric inputs can be served, not dtype {self.dtype!r}")
        if self.vocabulary is not None and (isinstance(self.vocabulary, bool) or not isinstance(self.vocabulary, int)
                                            or self.vocabulary < 1):
            raise ValueError(f"vocabulary must be a positive integer or None, got {self.vocabulary!r}")
        if self.min_size is not None:
            check_shape("min_size", self.min_size, length=len(self.shape),
                        expected=f"a tuple of {len(self.shape)} positive integers, one per dimension")

    def describe(self) -> str:
        """The shape as a message shows it: ``(28, 28)``, ``(any, 2)``."""
        dims = ", ".join("any" if d is None else str(d) for d in self.shape)
        return f"({dims})"

    def matches(self, shape: tuple[int, ...]) -> bool:
        """True when an array of ``shape`` is one example of this spec (free dimensions: any size)."""
        return len(shape) == len(self.shape) and all(s is None or s == d for s, d in zip(self.shape, shape))

    def too_small(self, shape: tuple[int, ...]) -> str | None:
        """For an example of ``shape`` that :meth:`matches`: why a free dimension is too small, or None."""
        if self.min_size is None:
            return None
        for axis, (free, size, least) in enumerate(zip(self.shape, shape, self.min_size)):
            if free is None and size < least:
                return (f"dimension {axis} of each example has size {size}; this model needs at least {least} "
                        f"there (expected {self.describe()} with every free dimension >= its minimum "
                        f"{self.describe_minimum()})")
        return None

    def minimum_shape(self) -> tuple[int, ...]:
        """The smallest example this spec takes: fixed dimensions as they are, free ones at ``min_size``."""
        least = self.min_size or (1,) * len(self.shape)
        return tuple(m if d is None else d for d, m in zip(self.shape, least))

    def describe_minimum(self) -> str:
        """The smallest example shape, as messages show it: ``(3, 3, 1)``."""
        return "(" + ", ".join(map(str, self.minimum_shape())) + ")"


def _reject_constant(name: str) -> Any:
    raise RequestError(422, f"the body contains {name}, which is not a finite number (nor valid JSON): "
                            "send finite numbers only")


def _number(value: int | float) -> str:
    """A number as a message shows it; integers too large for a float64 by their digit count."""
    if isinstance(value, int) and abs(value) > 10**300:
        return f"an integer with {len(str(abs(value)))} digits"
    return f"{float(value):.6g}"


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({'true' if value else 'false'})"
    if isinstance(value, str):
        shown = value if len(value) <= 20 else value[:20] + "..."
        return f"a string ({shown!r})"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def find_problem(value: Any, max_depth: int, path: str = "inputs") -> str | None:
    """Walk a decoded JSON value and describe the first thing that keeps it from being a numeric
    array: a non-number, a non-finite or out-of-range number, rows of unequal length or depth, or
    nesting deeper than ``max_depth``. None when it is a rectangular array of finite numbers.

    The walk goes level by level, so every list at one depth must have the same length and hold
    the same kind of item (lists or numbers) as every other list at that depth.
    """
    level: list[tuple[Any, str]] = [(value, path)]
    for depth in range(max_depth + 1):
        lists = [(item, where) for item, where in level if isinstance(item, list)]
        for item, where in level:
            if isinstance(item, list):
                continue
            if isinstance(item, bool) or item is None or isinstance(item, (str, dict)):
                return f"{where} is {_describe(item)}; every value must be a number"
            if not isinstance(item, (int, float)):
                return f"{where} is {_describe(item)}; every value must be a number"
            if isinstance(item, float) and not math.isfinite(item):
                return f"{where} is {item}; every value must be a finite number"
            if abs(item) > FLOAT32_MAX:
                return f"{where} = {_number(item)} is outside the float32 range (|x| <= {FLOAT32_MAX:.4g})"
        if not lists:
            return None
        if len(lists) != len(level):
            number = next(where for item, where in level if not isinstance(item, list))
            nested = lists[0][1]
            return (f"{nested} is a list but {number} is a single value; every row must have the same "
                    "shape (the array is ragged)")
        if depth == max_depth:
            return f"{lists[0][1]} nests deeper than the {max_depth} levels a batch of examples can have"
        first_len, first_where = len(lists[0][0]), lists[0][1]
        for item, where in lists:
            if len(item) != first_len:
                return (f"{first_where} has {first_len} items but {where} has {len(item)}; "
                        "every row must have the same length")
        level = [(child, f"{where}[{i}]") for item, where in lists for i, child in enumerate(item)]
    return None  # pragma: no cover - the loop returns at max_depth


# --------------------------------------------------------------------------- the steps of parse_predict_body
def _check_media_type(content_type: str | None) -> None:
    """415 unless the Content-Type is ``application/json`` (parameters such as charset allowed)."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media != "application/json":
        got = media or "no Content-Type"
        raise RequestError(415, f"expected a JSON body (Content-Type: application/json), got {got}; "
                                "with requests use json={'inputs': ...}, not data=...")


def _decode_json(body: bytes) -> Any:
    """The decoded JSON document; 400 for an empty body or anything that is not valid JSON."""
    if not body.strip():
        raise RequestError(400, "the body is empty; send {\"inputs\": <one example or a batch>}")
    try:
        return json.loads(body, parse_constant=_reject_constant)
    except RequestError:
        raise
    except UnicodeDecodeError as err:
        raise RequestError(400, f"the body is not valid UTF-8 text: {err.reason}") from None
    except json.JSONDecodeError as err:
        raise RequestError(400, f"malformed JSON at line {err.lineno} column {err.colno}: {err.msg}") from None
    except RecursionError:
        raise RequestError(400, "the JSON nests too deeply to parse") from None
    except ValueError as err:  # e.g. an integer literal with too many digits
        raise RequestError(400, f"malformed JSON: {err}") from None


def _inputs_of(document: Any) -> Any:
    """The value of the document's only key, ``"inputs"``; 400 for any other document."""
    if not isinstance(document, dict):
        raise RequestError(400, f"the body must be a JSON object {{\"inputs\": ...}}, got {_describe(document)}")
    if "inputs" not in document:
        keys = ", ".join(sorted(map(repr, document))) or "none"
        raise RequestError(400, f"the body has no \"inputs\" key (keys found: {keys}); "
                                "send {\"inputs\": <one example or a batch>}")
    extra = sorted(set(document) - {"inputs"})
    if extra:
        raise RequestError(400, f"unknown key(s) {', '.join(map(repr, extra))}; the body takes only \"inputs\"")
    return document["inputs"]


def _numeric_array(inputs: Any, body: bytes, example_ndim: int, expected: str) -> np.ndarray:
    """``inputs`` as a rectangular integer or float array; 422 naming the first bad value otherwise.

    The fast path is NumPy's own conversion; :func:`find_problem` walks the value only when that
    fails or might have accepted booleans (which NumPy would turn into numbers).
    """
    array = None
    if isinstance(inputs, list):
        try:
            array = np.asarray(inputs)
        except (ValueError, TypeError, OverflowError):
            array = None
    if array is None or array.dtype.kind not in "iuf" or b"true" in body or b"false" in body:
        problem = find_problem(inputs, max_depth=example_ndim + 1)
        if problem is None and not isinstance(inputs, list):
            problem = f"inputs is a single number; expected {expected}"
        if problem is not None:
            raise RequestError(422, problem)
        try:
            array = np.asarray(inputs)
            if array.dtype == object:  # integers beyond int64 (but within the float32 range)
                array = np.asarray(inputs, dtype=np.float64)
        except (ValueError, TypeError, OverflowError) as err:  # pragma: no cover - find_problem catches these
            raise RequestError(422, f"inputs is not a rectangular array of numbers ({err})") from None
    if array.dtype.kind not in "iuf":  # pragma: no cover - find_problem covers every such case
        raise RequestError(422, f"inputs must hold numbers only, got dtype {array.dtype}")
    return array


def _as_batch(array: np.ndarray, spec: InputSpec, expected: str, max_batch: int) -> tuple[np.ndarray, bool]:
    """``(batch, batched)``: one example becomes a batch of one; 422/413 for a wrong shape or size."""
    if spec.matches(array.shape):
        batched, array = False, array[None, ...]
    elif array.ndim == len(spec.shape) + 1 and spec.matches(array.shape[1:]):
        batched = True
    elif array.ndim >= 1 and array.shape[0] == 0:
        raise RequestError(422, f"the batch is empty; send at least one example of shape {spec.describe()}")
    else:
        raise RequestError(422, f"inputs has shape {tuple(array.shape)}; expected {expected}")
    if len(array) == 0:
        raise RequestError(422, f"the batch is empty; send at least one example of shape {spec.describe()}")
    if len(array) > max_batch:
        raise RequestError(413, f"the batch has {len(array)} examples; at most {max_batch} per request")
    small = spec.too_small(tuple(array.shape[1:]))
    if small is not None:
        raise RequestError(422, small)
    return array, batched


def _where(index: tuple[int, ...], batched: bool) -> str:
    """``inputs[i][j]...`` for an index into the batch (without the batch axis for one example)."""
    return "inputs" + "".join(f"[{i}]" for i in (index if batched else index[1:]))


def _check_vocabulary(array: np.ndarray, spec: InputSpec, batched: bool) -> None:
    """422 naming the first value that is not a valid index into the model's Embedding."""
    vocabulary = spec.vocabulary
    if vocabulary is None or not array.size:
        return
    bad = (array < 0) | (array >= vocabulary)
    if array.dtype.kind == "f":
        bad |= np.mod(array, 1) != 0
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise RequestError(422, f"{_where(index, batched)} = {_number(array[index].item())} is not a token index: "
                                f"this model's Embedding has a vocabulary of {vocabulary}, so every value must "
                                f"be an integer from 0 to {vocabulary - 1}")


def _to_integers(array: np.ndarray, spec: InputSpec) -> np.ndarray:
    """The batch in the spec's integer dtype; 422 for fractions or values outside its range."""
    target = np.dtype(spec.dtype)
    if array.dtype.kind == "f" and not np.all(np.mod(array, 1) == 0):
        raise RequestError(422, f"this model takes integers ({spec.dtype}); inputs holds fractions")
    info = np.iinfo(target)
    if array.size and (array.min() < info.min or array.max() > info.max):
        raise RequestError(422, f"inputs holds values outside the {spec.dtype} range [{info.min}, {info.max}]")
    return array.astype(target)


def _to_floats(array: np.ndarray, spec: InputSpec, batched: bool) -> np.ndarray:
    """The batch in the spec's float dtype; 422 naming the first value that overflows it."""
    target = np.dtype(spec.dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        converted = array.astype(target)
    bad = ~np.isfinite(converted)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        where = _where(index, batched)
        value = float(array[index])
        if math.isfinite(value):
            raise RequestError(422, f"{where} = {value:.6g} is outside the {spec.dtype} range "
                                    f"(|x| <= {float(np.finfo(target).max):.4g})")
        raise RequestError(422, f"{where} is {value}; every value must be a finite number")
    return converted


def parse_predict_body(body: bytes, content_type: str | None, spec: InputSpec,
                       max_batch: int = DEFAULT_MAX_BATCH) -> tuple[np.ndarray, bool]:
    """Validate a ``/predict`` request body; return ``(batch array, batched)``.

    The steps, each raising :class:`RequestError` (4xx) with a message: the media type (415),
    JSON decoding and the ``{"inputs": ...}`` envelope (400), a rectangular numeric array (422),
    the shape and batch size (422 / 413), the model's dtype range and, for a model whose input
    feeds an ``Embedding``, its vocabulary (422).
    ``batched`` is False when the body held one example (it is returned as a batch of one).
    Raises :class:`RequestError` with a 4xx status and a message for every kind of bad input.
    """
    _check_media_type(content_type)
    inputs = _inputs_of(_decode_json(body))
    expected = f"one example of shape {spec.describe()} or a batch of shape (n, {spec.describe()[1:]}"
    array = _numeric_array(inputs, body, len(spec.shape), expected)
    batch, batched = _as_batch(array, spec, expected, max_batch)
    if np.dtype(spec.dtype).kind in "iu":
        batch = _to_integers(batch, spec)
    else:
        batch = _to_floats(batch, spec, batched)
    _check_vocabulary(batch, spec, batched)
    return batch, batched

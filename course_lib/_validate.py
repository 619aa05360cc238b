"""Argument checks shared by every module of the package.

One policy everywhere: a value of the wrong **type** raises :class:`TypeError`; a value of the
right type that is outside what is allowed raises :class:`ValueError`. Every message names the
argument, says what was expected and shows what was given, for example
``num_clients must be a positive integer, got 0`` or
``noise_multiplier must be a non-negative number, got str '1'``.

``bool`` is refused wherever a number is expected: Python counts ``True`` as the integer 1, but
passing it as a count, a size or a rate is always a mistake.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

__all__ = ["check_int", "positive_int", "check_number", "positive_number", "check_shape"]


def _got(value: Any) -> str:
    """``<type name> <repr>`` of a value of the wrong type (the repr cut to 60 characters)."""
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"{type(value).__name__} {shown}"


def _integer_range(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return f"an integer between {minimum} and {maximum}"
    if minimum == 1:
        return "a positive integer"
    if minimum == 0:
        return "a non-negative integer"
    if minimum is not None:
        return f"an integer >= {minimum}"
    if maximum is not None:
        return f"an integer <= {maximum}"
    return "an integer"


def check_int(name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None,
              expected: str | None = None) -> int:
    """``value`` as a Python ``int`` once it is an integer in ``[minimum, maximum]``.

    Python and NumPy integers are accepted; ``bool``, floats (even ``2.0``) and strings are not.

    Args:
        name: the argument's name, for the message.
        value: what the caller passed.
        minimum, maximum: inclusive bounds; None leaves that side open.
        expected: what the message says was expected (default: derived from the bounds, e.g.
            ``"a positive integer"`` or ``"an integer between 2 and 512"``).

    Raises:
        TypeError: ``value`` is not an integer.
        ValueError: ``value`` is outside the bounds.
    """
    what = expected or _integer_range(minimum, maximum)
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be {what}, got {_got(value)}")
    number = int(value)
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise ValueError(f"{name} must be {what}, got {number}")
    return number


def positive_int(name: str, value: Any, *, expected: str | None = None) -> int:
    """``value`` as an ``int`` once it is an integer >= 1 (see :func:`check_int`)."""
    return check_int(name, value, minimum=1, expected=expected)


def _number_range(above: float | None, at_least: float | None, below: float | None,
                  at_most: float | None) -> str:
    low = f"({above:g}" if above is not None else (f"[{at_least:g}" if at_least is not None else None)
    high = f"{below:g})" if below is not None else (f"{at_most:g}]" if at_most is not None else None)
    if low is not None and high is not None:
        return f"a number in {low}, {high}"
    if above == 0 and high is None:
        return "a positive number"
    if at_least == 0 and high is None:
        return "a non-negative number"
    for bound, sign in ((above, ">"), (at_least, ">="), (below, "<"), (at_most, "<=")):
        if bound is not None:
            return f"a number {sign} {bound:g}"
    return "a number"


def check_number(name: str, value: Any, *, above: float | None = None, at_least: float | None = None,
                 below: float | None = None, at_most: float | None = None, finite: bool = True,
                 expected: str | None = None) -> float:
    """``value`` as a ``float`` once it is a real number within the given bounds.

    Python and NumPy integers and floats are accepted; ``bool``, strings, arrays and None are
    not. ``above``/``below`` are strict bounds, ``at_least``/``at_most`` inclusive ones.

    Args:
        name: the argument's name, for the message.
        value: what the caller passed.
        above, at_least, below, at_most: the bounds; None leaves that side open.
        finite: refuse NaN and infinities (the default).
        expected: what the message says was expected (default: derived from the bounds, e.g.
            ``"a positive number"`` or ``"a number in (0, 1]"``).

    Raises:
        TypeError: ``value`` is not a real number.
        ValueError: ``value`` is NaN or infinite (with ``finite``) or outside the bounds.
    """
    if above is not None and at_least is not None or below is not None and at_most is not None:
        raise ValueError("give at most one lower bound (above or at_least) and one upper bound (below or at_most)")
    what = expected or _number_range(above, at_least, below, at_most)
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be {what}, got {_got(value)}")
    number = float(value)
    if math.isnan(number) or (finite and math.isinf(number)):
        raise ValueError(f"{name} must be {what} and finite, got {number}")
    if ((above is not None and not number > above) or (at_least is not None and number < at_least)
            or (below is not None and not number < below) or (at_most is not None and number > at_most)):
        raise ValueError(f"{name} must be {what}, got {number!r}")
    return number


def positive_number(name: str, value: Any, *, allow_zero: bool = False, expected: str | None = None) -> float:
    """``value`` as a finite ``float`` > 0 (>= 0 with ``allow_zero``); see :func:`check_number`."""
    if allow_zero:
        return check_number(name, value, at_least=0, expected=expected)
    return check_number(name, value, above=0, expected=expected)


def check_shape(name: str, value: Any, *, length: int | None = None, allow_none: bool = False,
                expected: str | None = None) -> tuple[int | None, ...]:
    """``value`` as a tuple once it is a tuple or list of positive integers (a shape or a size).

    Args:
        name: the argument's name, for the message.
        value: what the caller passed, e.g. ``(height, width)``.
        length: the number of entries required (None: any number).
        allow_none: accept None entries (a dimension of any size).
        expected: what the message says was expected (default: derived from the other arguments).

    Raises:
        TypeError: ``value`` is not a tuple or list, or an entry is not an integer (or None).
        ValueError: ``value`` has the wrong length, or an entry is below 1.
    """
    if expected is None:
        entries = "positive integers or None" if allow_none else "positive integers"
        expected = f"a tuple of {length} {entries}" if length is not None else f"a tuple of {entries}"
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{name} must be {expected}, got {_got(value)}")
    for item in value:
        if item is None and allow_none:
            continue
        if isinstance(item, bool) or not isinstance(item, Integral):
            raise TypeError(f"{name} must be {expected}, got {value!r} (holding {_got(item)})")
    if length is not None and len(value) != length:
        raise ValueError(f"{name} must be {expected}, got {value!r} ({len(value)} entries)")
    if any(item is not None and item < 1 for item in value):
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return tuple(None if item is None else int(item) for item in value)

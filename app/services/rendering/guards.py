"""Size guards of the sandbox: refuse operations that would blow up memory.

A template may loop, but the time limit stops it; memory has no such net in a
shared worker, so the operations that multiply a value's size are checked
before they run (``'a' * 10**9``, ``'x'.center(10**9)``, ``'{:>999999999}'``,
``2 ** 10**9``), and every value a filter, a call or a concatenation returns is
checked after (a string doubled 40 times in a loop).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedFormatter

from app.services.rendering.limits import MAX_OUTPUT_CHARS

# One value (a string, a list) may not outgrow a whole document.
MAX_VALUE_SIZE = MAX_OUTPUT_CHARS
MAX_WIDTH = 1_000  # padding, indentation, format widths
MAX_POWER_BITS = 4_096  # 2**4096 is already far beyond any amount of money
MAX_INT_DIGITS = 30


class TooLargeError(SecurityError):
    """An operation would make a value larger than a document may be."""


_TOO_LARGE = {
    "text": _l("This text would be too large for a document."),
    "list": _l("This list would be too large for a document."),
    "power": _l("This power would be too large for a document."),
    "repetition": _l("This repetition would be too large for a document."),
    "number": _l("This number would be too large for a document."),
    "replacement": _l("This replacement would be too large for a document."),
    "join": _l("This join would be too large for a document."),
}
_TOO_WIDE = {
    "width": _l("This width is larger than %(max)s.", max=MAX_WIDTH),
    "indentation": _l("This indentation is larger than %(max)s.", max=MAX_WIDTH),
    "batch": _l("This batch size is larger than %(max)s.", max=MAX_WIDTH),
    "slices": _l("This number of slices is larger than %(max)s.", max=MAX_WIDTH),
    "bytes": _l("This byte length is larger than %(max)s.", max=MAX_WIDTH),
    "tabs": _l("This tab size is larger than %(max)s.", max=MAX_WIDTH),
    "format": _l("This format width is larger than %(max)s.", max=MAX_WIDTH),
}


def _refuse(what: str) -> TooLargeError:
    return TooLargeError(str(_TOO_LARGE[what]))


def weight(value: Any, budget: int = MAX_VALUE_SIZE) -> int:
    """Approximate size of a value (characters + items), counted up to ``budget`` + 1.

    Counting stops once over budget, so a huge structure costs little to refuse.
    """
    total = 0
    stack = [value]
    while stack and total <= budget:
        item = stack.pop()
        if isinstance(item, str | bytes):
            total += len(item) + 1
        elif isinstance(item, Mapping):
            total += len(item) + 1
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            total += len(item) + 1
            stack.extend(item)
        else:
            total += 1
    return total


def checked(value: Any) -> Any:
    """Return ``value`` if it stays within the size a document may have."""
    if isinstance(value, str | bytes):
        if len(value) > MAX_VALUE_SIZE:
            raise _refuse("text")
    elif isinstance(value, list | tuple | dict) and weight(value) > MAX_VALUE_SIZE:
        raise _refuse("list")
    return value


def check_width(width: Any, what: str = "width") -> None:
    if isinstance(width, int | float | Decimal) and width > MAX_WIDTH:
        raise TooLargeError(str(_TOO_WIDE[what]))


def check_power(left: Any, right: Any) -> None:
    if isinstance(right, int | float | Decimal) and isinstance(left, int | float | Decimal):
        magnitude = abs(left) if left else 0
        if magnitude > 1 and right > 0:
            bits = math.log2(magnitude) * float(right)
            if bits > MAX_POWER_BITS:
                raise _refuse("power")


def check_repeat(left: Any, right: Any) -> None:
    for sequence, times in ((left, right), (right, left)):
        if (
            isinstance(sequence, str | bytes | list | tuple)
            and isinstance(times, int)
            and times > 0
            and weight(sequence) * times > MAX_VALUE_SIZE
        ):
            raise _refuse("repetition")


def _check_format_spec(spec: str) -> None:
    """Refuse widths and precisions that pad a value to millions of characters."""
    digits = ""
    for char in spec + " ":
        if char.isdigit():
            digits += char
            continue
        if digits and int(digits) > MAX_WIDTH:
            raise TooLargeError(str(_TOO_WIDE["format"]))
        digits = ""


def check_printf(template: Any) -> None:
    """Same check for printf-style formats (``'%9999999d' % x``, ``|format``)."""
    if not isinstance(template, str):
        return
    position = template.find("%")
    while position != -1:
        end = position + 1
        while end < len(template) and template[end] in "#0- +.*0123456789(":
            if template[end] == "(":  # mapping key: skip to ')'
                close = template.find(")", end)
                end = len(template) if close == -1 else close
            end += 1
        spec = template[position + 1 : end]
        if "*" in spec:
            raise TooLargeError(_("A '*' width in a format is not allowed in templates."))
        _check_format_spec(spec.split(")")[-1])
        position = template.find("%", end + 1)


class LimitedFormatter(SandboxedFormatter):
    def format_field(self, value: Any, format_spec: str) -> Any:
        _check_format_spec(format_spec)
        if isinstance(value, Decimal) and value.is_finite() and abs(value.adjusted()) > MAX_WIDTH:
            raise _refuse("number")
        return super().format_field(value, format_spec)


def guard_str_method(name: str, target: str | bytes, method: Callable[..., Any]) -> Any:
    """Wrap the str/bytes methods that can multiply a value's size."""

    def width_first(*args: Any, **kwargs: Any) -> Any:
        width = args[0] if args else next(iter(kwargs.values()), 0)
        check_width(width)
        return method(*args, **kwargs)

    def expandtabs(*args: Any, **kwargs: Any) -> Any:
        size = args[0] if args else kwargs.get("tabsize", 8)
        check_width(size, "tabs")
        return checked(method(*args, **kwargs))

    def replace(old: Any, new: Any, count: int = -1, /) -> Any:
        occurrences = target.count(old) if old else len(target) + 1
        if count >= 0:
            occurrences = min(occurrences, count)
        if len(target) + occurrences * len(new) > MAX_VALUE_SIZE:
            raise _refuse("replacement")
        return method(old, new, count)

    def join(items: Iterable[Any], /) -> Any:
        collected = []
        size = 0
        for item in items:
            size += weight(item) + len(target)
            if size > MAX_VALUE_SIZE:
                raise _refuse("join")
            collected.append(item)
        return method(collected)

    if name in ("center", "ljust", "rjust", "zfill"):
        return functools.update_wrapper(width_first, method)
    if name == "expandtabs":
        return functools.update_wrapper(expandtabs, method)
    if name == "replace":
        return functools.update_wrapper(replace, method)
    if name == "join":
        return functools.update_wrapper(join, method)
    return None


def filter_format(value: Any, *args: Any, **kwargs: Any) -> str:
    check_printf(str(value))
    if args and kwargs:
        raise TypeError(_("|format takes either positional or keyword arguments, not both."))
    return checked(str(value) % (kwargs or args))


def limited(original: Callable[..., Any], position: int, name: str, what: str) -> Callable:
    """A built-in filter whose numeric argument at ``position`` (after the value) is capped."""

    @functools.wraps(original)
    def limited(*args: Any, **kwargs: Any) -> Any:
        offset = 1 if getattr(original, "jinja_pass_arg", None) else 0
        index = offset + 1 + position
        width = kwargs.get(name, args[index] if len(args) > index else None)
        check_width(width, what)
        return original(*args, **kwargs)

    return limited


def filter_sum(iterable: Iterable[Any], attribute: str | int | None = None, start: Any = 0) -> Any:
    # Adding lists or strings with |sum grows quadratically: numbers only.
    total = start
    for item in iterable:
        value = item
        if attribute is not None:
            for part in str(attribute).split("."):
                value = value[int(part)] if part.isdigit() else value[part]
        if not isinstance(value, int | float | Decimal) or isinstance(value, bool):
            raise TypeError(_("|sum adds numbers only."))
        total = total + value
    return total


def filter_int(value: Any, default: int = 0, base: int = 10) -> int:
    try:
        if isinstance(value, str | bytes):
            if len(value) > MAX_INT_DIGITS + 10:
                raise _refuse("number")
            result = int(value, base)
        else:
            number = Decimal(str(value)) if not isinstance(value, Decimal) else value
            if number.is_finite() and number.adjusted() > MAX_INT_DIGITS:
                raise _refuse("number")
            result = int(number)
    except (TypeError, ValueError, ArithmeticError):
        try:
            result = int(float(value))
        except (TypeError, ValueError, OverflowError):
            return default
    return result


def filter_list(value: Any) -> list[Any]:
    collected = []
    size = 0
    for item in value:
        size += weight(item)
        if size > MAX_VALUE_SIZE:
            raise _refuse("list")
        collected.append(item)
    return collected


def guarded_replace(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def replace(eval_ctx: Any, value: Any, old: Any, new: Any, count: int | None = None) -> Any:
        text, old, new = str(value), str(old), str(new)
        occurrences = text.count(old) if old else len(text) + 1
        if count is not None and count >= 0:
            occurrences = min(occurrences, count)
        if len(text) + occurrences * len(new) > MAX_VALUE_SIZE:
            raise _refuse("replacement")
        return original(eval_ctx, value, old, new, count)

    return replace


def guarded_join(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def join(eval_ctx: Any, value: Any, d: str = "", attribute: Any = None) -> Any:
        return original(eval_ctx, filter_list(value), d, attribute)

    return join

"""The Jinja sandbox every user-written template runs in.

What it gives a template: the plain data of its context, a few globals
(``range`` capped by Jinja, ``dict``, ``cycler``, ``joiner``, ``namespace``) and
our filters. What it refuses: attributes starting with ``_`` and other Python
internals (``ImmutableSandboxedEnvironment``), changing lists and dicts,
``include``/``import``/``extends`` (there is no loader: a template is one
self-contained body), and operations that would blow up memory, such as
``'a' * 10**9``.
"""

from __future__ import annotations

import contextvars
import functools
import math
import types
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from jinja2 import StrictUndefined, Undefined, nodes, pass_context
from jinja2.compiler import CodeGenerator
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedFormatter
from jinja2.utils import missing as _missing
from markupsafe import Markup

from app.services.rendering.formatting import format_date_value, format_money, format_number
from app.services.rendering.limits import MAX_OUTPUT_CHARS

# One value (a string, a list) may not outgrow a whole document.
MAX_VALUE_SIZE = MAX_OUTPUT_CHARS
MAX_WIDTH = 1_000  # padding, indentation, format widths
MAX_POWER_BITS = 4_096  # 2**4096 is already far beyond any amount of money
MAX_INT_DIGITS = 30

# The render's locale, read by the filters. A context variable rather than a
# template variable so that a template cannot change it behind the filters' back.
render_locale: contextvars.ContextVar[str] = contextvars.ContextVar("render_locale", default="fr")


class TooLargeError(SecurityError):
    """An operation would make a value larger than a document may be."""


def _refuse(what: str) -> TooLargeError:
    return TooLargeError(f"{what} would be too large for a document.")


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
            raise _refuse("This text")
    elif isinstance(value, list | tuple | dict) and weight(value) > MAX_VALUE_SIZE:
        raise _refuse("This list")
    return value


def _check_width(width: Any, what: str = "This width") -> None:
    if isinstance(width, int | float | Decimal) and width > MAX_WIDTH:
        raise TooLargeError(f"{what} is larger than {MAX_WIDTH}.")


def _check_power(left: Any, right: Any) -> None:
    if isinstance(right, int | float | Decimal) and isinstance(left, int | float | Decimal):
        magnitude = abs(left) if left else 0
        if magnitude > 1 and right > 0:
            bits = math.log2(magnitude) * float(right)
            if bits > MAX_POWER_BITS:
                raise _refuse("This power")


def _check_repeat(left: Any, right: Any) -> None:
    for sequence, times in ((left, right), (right, left)):
        if (
            isinstance(sequence, str | bytes | list | tuple)
            and isinstance(times, int)
            and times > 0
            and weight(sequence) * times > MAX_VALUE_SIZE
        ):
            raise _refuse("This repetition")


def _check_format_spec(spec: str) -> None:
    """Refuse widths and precisions that pad a value to millions of characters."""
    digits = ""
    for char in spec + " ":
        if char.isdigit():
            digits += char
            continue
        if digits and int(digits) > MAX_WIDTH:
            raise TooLargeError(f"This format width is larger than {MAX_WIDTH}.")
        digits = ""


def _check_printf(template: Any) -> None:
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
            raise TooLargeError("A '*' width in a format is not allowed in templates.")
        _check_format_spec(spec.split(")")[-1])
        position = template.find("%", end + 1)


class _LimitedFormatter(SandboxedFormatter):
    def format_field(self, value: Any, format_spec: str) -> Any:
        _check_format_spec(format_spec)
        if isinstance(value, Decimal) and value.is_finite() and abs(value.adjusted()) > MAX_WIDTH:
            raise _refuse("This number")
        return super().format_field(value, format_spec)


def _guard_str_method(name: str, target: str | bytes, method: Callable[..., Any]) -> Any:
    """Wrap the str/bytes methods that can multiply a value's size."""

    def width_first(*args: Any, **kwargs: Any) -> Any:
        width = args[0] if args else next(iter(kwargs.values()), 0)
        _check_width(width)
        return method(*args, **kwargs)

    def expandtabs(*args: Any, **kwargs: Any) -> Any:
        size = args[0] if args else kwargs.get("tabsize", 8)
        _check_width(size, "This tab size")
        return checked(method(*args, **kwargs))

    def replace(old: Any, new: Any, count: int = -1, /) -> Any:
        occurrences = target.count(old) if old else len(target) + 1
        if count >= 0:
            occurrences = min(occurrences, count)
        if len(target) + occurrences * len(new) > MAX_VALUE_SIZE:
            raise _refuse("This replacement")
        return method(old, new, count)

    def join(items: Iterable[Any], /) -> Any:
        collected = []
        size = 0
        for item in items:
            size += weight(item) + len(target)
            if size > MAX_VALUE_SIZE:
                raise _refuse("This join")
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


class RenderUndefined(StrictUndefined):
    """Fails as soon as a template uses a name the context does not have.

    Strict on purpose: a typo in a contract template should stop the preview
    with the name it could not find, not print an empty field in a document a
    client signs. ``{% if x is defined %}`` and ``|default`` still work.
    """

    __slots__ = ()

    def __init__(
        self,
        hint: str | None = None,
        obj: Any = _missing,
        name: str | None = None,
        exc: type[Exception] = UndefinedError,
    ) -> None:
        if isinstance(obj, Undefined) and hint is None:
            # Chained failures (``|attr('__class__')|attr('__mro__')``): the first one speaks.
            hint, exc = obj._undefined_message, obj._undefined_exception
        super().__init__(hint, obj, name, exc)

    @property
    def _undefined_message(self) -> str:
        if self._undefined_hint:
            return self._undefined_hint
        name = self._undefined_name
        if isinstance(name, str) and name.startswith("_"):
            return f"'{name}': names starting with '_' are not available in templates."
        if self._undefined_obj is _missing:
            return f"Unknown variable '{name}'."
        if isinstance(self._undefined_obj, Mapping):
            known = ", ".join(sorted(str(key) for key in self._undefined_obj)[:30])
            return f"No field '{name}' here. Fields: {known}."
        return f"A {type(self._undefined_obj).__name__} value has no field '{name}'."


class _GuardedCodeGenerator(CodeGenerator):
    """Checks the size of every ``~`` concatenation.

    Concatenation is compiled inline, not through an interceptable operator,
    and a recursive macro could double a string at each level.
    """

    def visit_Concat(self, node: nodes.Concat, frame: Any) -> None:  # noqa: N802
        self.write("environment.checked(")
        super().visit_Concat(node, frame)
        self.write(")")


def _guard_filter(function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        return checked(function(*args, **kwargs))

    return guarded


class RenderEnvironment(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "%", "+", "//"})
    code_generator_class = _GuardedCodeGenerator

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "*":
            _check_repeat(left, right)
        elif operator_name == "**":
            _check_power(left, right)
        elif operator_name == "%" and isinstance(left, str):
            _check_printf(left)
        return checked(self.binop_table[operator_name](left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        if getattr(__obj, "__name__", None) == "to_bytes" and isinstance(
            getattr(__obj, "__self__", None), int
        ):
            _check_width(args[0] if args else kwargs.get("length", 1), "This byte length")
        return checked(super().call(__context, __obj, *args, **kwargs))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        if not isinstance(value, types.MethodType | types.BuiltinMethodType):
            return None
        target = getattr(value, "__self__", None)
        if not isinstance(target, str | bytes):
            return None
        if value.__name__ in ("format", "format_map") and isinstance(target, str):
            return self._limited_format(target, value)
        return _guard_str_method(value.__name__, target, value)

    def _limited_format(self, target: str, method: Any) -> Callable[..., str]:
        # Jinja's own wrapper, with a formatter that also refuses huge widths.
        formatter = _LimitedFormatter(self)
        str_type = type(target)
        is_format_map = method.__name__ == "format_map"

        def wrapper(*args: Any, **kwargs: Any) -> str:
            if is_format_map:
                if kwargs or len(args) != 1:
                    raise TypeError("format_map() takes exactly one argument")
                kwargs, args = args[0], ()
            if isinstance(target, Markup):
                args = tuple(Markup.escape(arg) for arg in args)
                kwargs = {key: Markup.escape(arg) for key, arg in kwargs.items()}
            return checked(str_type(formatter.vformat(target, args, kwargs)))

        return functools.update_wrapper(wrapper, method)


# The locale filters take the template context only so that Jinja never folds them
# at compile time: a compiled template is cached and shared by every locale.
@pass_context
def _filter_date(_context: Any, value: Any, format: str = "long") -> str:  # noqa: A002
    return format_date_value(value, format, render_locale.get())


@pass_context
def _filter_money(_context: Any, value: Any, currency: str | None = None) -> str:
    return format_money(value, currency, render_locale.get())


@pass_context
def _filter_number(_context: Any, value: Any, decimals: int | None = None) -> str:
    return format_number(value, decimals, render_locale.get())


def _filter_format(value: Any, *args: Any, **kwargs: Any) -> str:
    _check_printf(str(value))
    if args and kwargs:
        raise TypeError("format takes either positional or keyword arguments, not both")
    return checked(str(value) % (kwargs or args))


def _limited(original: Callable[..., Any], position: int, name: str, what: str) -> Callable:
    """A built-in filter whose numeric argument at ``position`` (after the value) is capped."""

    @functools.wraps(original)
    def limited(*args: Any, **kwargs: Any) -> Any:
        offset = 1 if getattr(original, "jinja_pass_arg", None) else 0
        index = offset + 1 + position
        width = kwargs.get(name, args[index] if len(args) > index else None)
        _check_width(width, what)
        return original(*args, **kwargs)

    return limited


def _filter_sum(iterable: Iterable[Any], attribute: str | int | None = None, start: Any = 0) -> Any:
    # Adding lists or strings with |sum grows quadratically: numbers only.
    total = start
    for item in iterable:
        value = item
        if attribute is not None:
            for part in str(attribute).split("."):
                value = value[int(part)] if part.isdigit() else value[part]
        if not isinstance(value, int | float | Decimal) or isinstance(value, bool):
            raise TypeError("|sum adds numbers only")
        total = total + value
    return total


def _filter_int(value: Any, default: int = 0, base: int = 10) -> int:
    try:
        if isinstance(value, str | bytes):
            if len(value) > MAX_INT_DIGITS + 10:
                raise _refuse("This number")
            result = int(value, base)
        else:
            number = Decimal(str(value)) if not isinstance(value, Decimal) else value
            if number.is_finite() and number.adjusted() > MAX_INT_DIGITS:
                raise _refuse("This number")
            result = int(number)
    except (TypeError, ValueError, ArithmeticError):
        try:
            result = int(float(value))
        except (TypeError, ValueError, OverflowError):
            return default
    return result


def _filter_list(value: Any) -> list[Any]:
    collected = []
    size = 0
    for item in value:
        size += weight(item)
        if size > MAX_VALUE_SIZE:
            raise _refuse("This list")
        collected.append(item)
    return collected


def _guarded_replace(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def replace(eval_ctx: Any, value: Any, old: Any, new: Any, count: int | None = None) -> Any:
        text, old, new = str(value), str(old), str(new)
        occurrences = text.count(old) if old else len(text) + 1
        if count is not None and count >= 0:
            occurrences = min(occurrences, count)
        if len(text) + occurrences * len(new) > MAX_VALUE_SIZE:
            raise _refuse("This replacement")
        return original(eval_ctx, value, old, new, count)

    return replace


def _guarded_join(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def join(eval_ctx: Any, value: Any, d: str = "", attribute: Any = None) -> Any:
        return original(eval_ctx, _filter_list(value), d, attribute)

    return join


def _finalize(value: Any) -> Any:
    # None prints as nothing (an empty optional field), not "None".
    if value is None:
        return ""
    return checked(value) if isinstance(value, list | tuple | dict) else value


@functools.lru_cache(maxsize=1)
def environment() -> RenderEnvironment:
    """The shared sandbox (thread-safe once built; filters read the locale per render)."""
    env = RenderEnvironment(
        autoescape=True,
        undefined=RenderUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        cache_size=0,
    )
    env.globals.pop("lipsum", None)  # lipsum(n=10**6) is a memory bomb and of no use here
    filters = env.filters
    filters["center"] = _limited(filters["center"], 0, "width", "This width")
    filters["indent"] = _limited(filters["indent"], 0, "width", "This indentation")
    filters["batch"] = _limited(filters["batch"], 0, "linecount", "This batch size")
    filters["slice"] = _limited(filters["slice"], 0, "slices", "This number of slices")
    filters["tojson"] = _limited(filters["tojson"], 0, "indent", "This indentation")
    filters["replace"] = _guarded_replace(filters["replace"])
    filters["join"] = _guarded_join(filters["join"])
    filters.update(
        {
            "format": _filter_format,
            "sum": _filter_sum,
            "int": _filter_int,
            "list": _filter_list,
            "date": _filter_date,
            "money": _filter_money,
            "number": _filter_number,
        }
    )
    for name, function in list(filters.items()):
        filters[name] = _guard_filter(function)
    env.checked = checked  # type: ignore[attr-defined]  # called by the generated code
    return env


__all__ = [
    "RenderEnvironment",
    "RenderUndefined",
    "TooLargeError",
    "checked",
    "environment",
    "render_locale",
    "weight",
]

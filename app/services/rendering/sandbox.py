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
import types
from collections.abc import Callable, Mapping
from typing import Any

from flask_babel import gettext as _
from jinja2 import StrictUndefined, Undefined, nodes, pass_context
from jinja2.compiler import CodeGenerator
from jinja2.exceptions import UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import missing as _missing
from markupsafe import Markup

from app.services.rendering.formatting import format_date_value, format_money, format_number
from app.services.rendering.guards import (
    LimitedFormatter,
    check_power,
    check_printf,
    check_repeat,
    check_width,
    checked,
    filter_format,
    filter_int,
    filter_list,
    filter_sum,
    guard_str_method,
    guarded_join,
    guarded_replace,
    limited,
)

# The render's locale, read by the filters. A context variable rather than a
# template variable so that a template cannot change it behind the filters' back.
render_locale: contextvars.ContextVar[str] = contextvars.ContextVar("render_locale", default="fr")


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
            return _(
                "'%(name)s': names starting with '_' are not available in templates.", name=name
            )
        if self._undefined_obj is _missing:
            return _("Unknown variable '%(name)s'.", name=name)
        if isinstance(self._undefined_obj, Mapping):
            known = ", ".join(sorted(str(key) for key in self._undefined_obj)[:30])
            return _("No field '%(name)s' here. Fields: %(fields)s.", name=name, fields=known)
        if self._undefined_obj is None:
            # An optional section the data does not have (a contract never cancelled has
            # no ``cancellation``): say so rather than name Python's NoneType.
            return _("No field '%(name)s' here: this value is empty.", name=name)
        return _(
            "A %(type)s value has no field '%(name)s'.",
            type=type(self._undefined_obj).__name__,
            name=name,
        )


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
            check_repeat(left, right)
        elif operator_name == "**":
            check_power(left, right)
        elif operator_name == "%" and isinstance(left, str):
            check_printf(left)
        return checked(self.binop_table[operator_name](left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        if getattr(__obj, "__name__", None) == "to_bytes" and isinstance(
            getattr(__obj, "__self__", None), int
        ):
            check_width(args[0] if args else kwargs.get("length", 1), "bytes")
        return checked(super().call(__context, __obj, *args, **kwargs))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        if not isinstance(value, types.MethodType | types.BuiltinMethodType):
            return None
        target = getattr(value, "__self__", None)
        if not isinstance(target, str | bytes):
            return None
        if value.__name__ in ("format", "format_map") and isinstance(target, str):
            return self._limited_format(target, value)
        return guard_str_method(value.__name__, target, value)

    def _limited_format(self, target: str, method: Any) -> Callable[..., str]:
        # Jinja's own wrapper, with a formatter that also refuses huge widths.
        formatter = LimitedFormatter(self)
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
    filters["center"] = limited(filters["center"], 0, "width", "width")
    filters["indent"] = limited(filters["indent"], 0, "width", "indentation")
    filters["batch"] = limited(filters["batch"], 0, "linecount", "batch")
    filters["slice"] = limited(filters["slice"], 0, "slices", "slices")
    filters["tojson"] = limited(filters["tojson"], 0, "indent", "indentation")
    filters["replace"] = guarded_replace(filters["replace"])
    filters["join"] = guarded_join(filters["join"])
    filters.update(
        {
            "format": filter_format,
            "sum": filter_sum,
            "int": filter_int,
            "list": filter_list,
            "date": _filter_date,
            "money": _filter_money,
            "number": _filter_number,
        }
    )
    for name, function in list(filters.items()):
        filters[name] = _guard_filter(function)
    env.checked = checked  # type: ignore[attr-defined]  # called by the generated code
    return env


__all__ = ["RenderEnvironment", "RenderUndefined", "environment", "render_locale"]

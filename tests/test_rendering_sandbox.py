"""The template sandbox: escapes, loaders, memory bombs and the time limit are contained.

No database here: the rendering service works on plain data.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time

import pytest

from app.services.rendering import (
    RenderError,
    RenderTimeout,
    TemplateSyntaxProblem,
    check_template,
    limits,
    render,
    sample_context,
)
from app.services.rendering.limits import run_with_time_limit


@pytest.fixture(scope="module")
def context() -> dict:
    return sample_context(None)


def html(body: str, context: dict, **options) -> str:
    return render(body, "html", context, **options).data.decode("utf-8")


ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ''|attr('__class__') }}",
    "{{ (''|attr('__class__')|attr('__mro__'))[1] }}",
    "{{ client|attr('__class__') }}",
    "{{ client|attr('\\x5f\\x5fclass\\x5f\\x5f') }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ joiner.__init__.__globals__.os }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ self.__dict__ }}",
    "{{ lipsum.__globals__ }}",
    "{{ range.__self__ }}",
    "{{ dict.__base__.__subclasses__() }}",
    "{{ dict.mro() }}",
    "{{ '{0.__class__}'.format(client) }}",
    "{{ '{0.__class__.__mro__}'.format('') }}",
    "{{ '{x.__class__}'.format_map({'x': 1}) }}",
    "{{ '%s'|format(''.__class__) }}",
    "{{ instalments.append(1) }}",
    "{{ client.update({'a': 1}) }}",
    "{{ client.pop('email') }}",
    "{% set x = ''.__class__ %}{{ x }}",
    "{{ loop.__class__ }}",
    "{% for i in [1] %}{{ loop.__class__ }}{% endfor %}",
    "{{ (1).__class__ }}",
    "{{ policy.premium.__class__ }}",
    "{{ today.__class__.__subclasses__() }}",
]


@pytest.mark.parametrize("body", ESCAPES)
def test_escape_attempt_is_refused_with_a_render_error(body: str, context: dict) -> None:
    with pytest.raises(RenderError) as caught:
        html(body, context)
    message = caught.value.message
    assert message and "Traceback" not in message
    assert caught.value.line == 1


def test_refused_attribute_names_the_attribute(context: dict) -> None:
    with pytest.raises(RenderError, match="__class__"):
        html("{{ ''.__class__ }}", context)


@pytest.mark.parametrize(
    "body",
    [
        "{% include '/etc/passwd' %}",
        "{% extends 'base.html' %}",
        "{% import 'macros.html' as m %}",
        "{% from 'macros.html' import x %}",
        "line one\n{% if true %}{% include ['a', '/etc/passwd'] %}{% endif %}",
    ],
)
def test_loading_tags_are_refused_at_check_time(body: str) -> None:
    with pytest.raises(TemplateSyntaxProblem, match="cannot load files") as caught:
        check_template(body, "html")
    assert caught.value.line == body.count("\n") + 1


def test_syntax_error_reports_its_line() -> None:
    with pytest.raises(TemplateSyntaxProblem) as caught:
        check_template("<p>one</p>\n<p>two</p>\n{% for x in %}\n", "html")
    assert caught.value.line == 3
    assert caught.value.message


def test_deeply_nested_template_is_a_syntax_problem_not_a_crash() -> None:
    with pytest.raises(TemplateSyntaxProblem):
        check_template("{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}", "html")


def test_unknown_variable_is_named_with_its_line(context: dict) -> None:
    with pytest.raises(RenderError) as caught:
        html("<p>ok</p>\n<p>{{ client.nme }}</p>", context)
    assert caught.value.line == 2
    assert "'nme'" in caught.value.message and "display_name" in caught.value.message
    with pytest.raises(RenderError, match="Unknown variable 'polcy'"):
        html("{{ polcy.number }}", context)


def test_defined_test_and_default_filter_work_with_strict_undefined(context: dict) -> None:
    text = html(
        "{{ client.nickname|default('—') }}{% if nothing is defined %}x{% endif %}", context
    )
    assert "—" in text and ">x<" not in text


def test_none_prints_as_nothing(context: dict) -> None:
    assert "None" not in html("<p>[{{ client.siren }}]</p>", context)


def test_output_is_autoescaped(context: dict) -> None:
    context = {**context, "client": {**context["client"], "display_name": "<b>Bob</b>"}}
    text = html("{{ client.display_name }}", context)
    assert "&lt;b&gt;Bob&lt;/b&gt;" in text


@pytest.mark.parametrize(
    "body",
    [
        "{{ 'a' * 10**9 }}",
        "{{ 10**9 * 'a' }}",
        "{{ [1] * 10**9 }}",
        "{{ ['x' * 1000] * 100000 }}",
        "{{ 2 ** (10 ** 9) }}",
        "{{ 10 ** (10 ** 10) }}",
        "{{ 'a'.ljust(10**9) }}",
        "{{ 'a'.center(10**9) }}",
        "{{ 'a'.zfill(10**9) }}",
        "{{ 'a'|center(10**9) }}",
        "{{ 'a'|indent(10**9) }}",
        "{{ ('a' * 100000).replace('', 'b' * 1000) }}",
        "{{ ('a' * 100000)|replace('a', 'b' * 1000) }}",
        "{{ '{:>999999999}'.format(1) }}",
        "{{ '{:{w}}'.format(1, w=999999999) }}",
        "{{ '%999999999d' % 1 }}",
        "{{ '%*d' % (999999999, 1) }}",
        "{{ '%999999999d'|format(1) }}",
        "{{ (1).to_bytes(10**9, 'big') }}",
        "{{ range(10)|batch(10**9, 'x')|list }}",
        "{{ range(10)|slice(10**9)|list }}",
        "{{ client|tojson(10**9) }}",
        "{{ range(100000)|map('string')|map('center', 1000)|join }}",
        "{{ range(100000)|map('string')|map('center', 1000)|list }}",
        "{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
        "{% endfor %}{{ ns.s|length }}",
        "{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}"
        "{% endfor %}{{ ns.s|length }}",
        "{% macro grow(s, n) %}{% if n %}{{ grow(s ~ s, n - 1) }}{% else %}{{ s|length }}"
        "{% endif %}{% endmacro %}{{ grow('ab', 40) }}",
        "{{ [[1] * 1000] * 100000 }}",
        "{{ range(100000)|map('string')|list|sum(start=[]) }}",
        "{{ policy.premium.scaleb(999999999)|int }}",
    ],
)
def test_memory_bombs_are_refused_by_a_guard(body: str, context: dict) -> None:
    with pytest.raises(RenderError) as caught:
        html(body, context, timeout=30)
    # Refused by a guard, not stopped by the clock: the time limit is only the last resort.
    assert not isinstance(caught.value, RenderTimeout), caught.value.message


def test_output_size_is_capped_while_streaming(context: dict) -> None:
    # 10^14 characters: no render holds them, nor makes them within the limit. "too large"
    # (not the time limit, nor a MemoryError) means the cap stopped it while streaming.
    body = (
        "{% for i in range(100000) %}{% for j in range(100000) %}{% for k in range(100) %}"
        "{{ 'x' * 100 }}{% endfor %}{% endfor %}{% endfor %}"
    )
    with pytest.raises(RenderError, match="too large") as caught:
        html(body, context, timeout=60)
    assert not isinstance(caught.value, RenderTimeout)


def test_reasonable_uses_of_guarded_operations_still_work(context: dict) -> None:
    body = (
        "{{ '-' * 10 }}|{{ 2 ** 10 }}|{{ '%05d' % 42 }}|{{ '{:>6}'.format('ab') }}|"
        "{{ 'ab'.center(6, '.') }}|{{ [1, 2] * 2 }}|{{ instalments|sum(attribute='amount') }}|"
        "{{ 'a-b'.replace('-', '+') }}|{{ ', '.join(['x', 'y']) }}|{{ 7 // 2 }}|{{ 7 % 3 }}"
    )
    text = html(body, context)
    assert "----------|1024|00042|    ab|..ab..|[1, 2, 1, 2]|684.36|a+b|x, y|3|1" in text


@pytest.fixture
def watchdogs(monkeypatch) -> list[limits.Watchdog]:
    """Every watchdog a render arms, to check which limit stopped it (not how fast)."""
    armed: list[limits.Watchdog] = []

    class Recorded(limits.Watchdog):
        def __init__(self, seconds: float) -> None:
            super().__init__(seconds)
            armed.append(self)

    monkeypatch.setattr(limits, "Watchdog", Recorded)
    return armed


def test_infinite_loop_stops_at_the_time_limit(context: dict, watchdogs) -> None:
    body = (
        "{% for a in range(100000) %}{% for b in range(100000) %}{% for c in 'abcdefgh' %}"
        "{% endfor %}{% endfor %}{% endfor %}"
    )
    with pytest.raises(RenderTimeout) as caught:
        html(body, context, timeout=1)
    assert "time limit" in caught.value.message
    # The loop would run for hours: it was the watchdog armed for the 1 s asked that
    # stopped it (its timer cannot fire earlier), and it fired while the render ran.
    assert [(watchdog.seconds, watchdog._fired) for watchdog in watchdogs] == [(1.0, True)]


def test_time_limit_comes_from_the_app_config(app, context: dict, watchdogs) -> None:
    body = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"
    previous = app.config["RENDER_TIMEOUT_SECONDS"]
    app.config["RENDER_TIMEOUT_SECONDS"] = 1
    try:
        with app.app_context(), pytest.raises(RenderTimeout):
            html(body, context)
    finally:
        app.config["RENDER_TIMEOUT_SECONDS"] = previous
    # Armed for the configured second, not the 30 s default.
    assert [(watchdog.seconds, watchdog._fired) for watchdog in watchdogs] == [(1.0, True)]


def test_time_limit_works_in_a_worker_thread(context: dict) -> None:
    body = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"
    outcome: list[BaseException | None] = []

    def worker() -> None:
        try:
            html(body, context, timeout=0.5)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 (reported to the test thread)
            outcome.append(exc)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(60)  # a bound on the wait only: the render stops after 0.5 s
    assert not thread.is_alive()
    assert isinstance(outcome[0], RenderTimeout)


def test_watchdog_never_fires_after_a_render_finished(context: dict) -> None:
    """Short renders with a timeout about as long as they are: each one either ends
    or times out, and no stray stop lands afterwards in unrelated code."""
    outcomes = {"done": 0, "timeout": 0}

    def busy(seconds: float) -> int:
        end = time.monotonic() + seconds
        spins = 0
        while time.monotonic() < end:
            spins += 1
        return spins

    # The timer thread needs the interpreter lock to fire: with the default switch
    # interval (5 ms) it would never get it within a 2 ms render.
    saved_interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0001)
    try:
        for index in range(400):
            # Work from half to one and a half times the limit: both outcomes, and
            # many timers firing in the instant the work ends.
            work_seconds = 0.002 * (0.5 + (index % 11) / 10)
            try:
                run_with_time_limit(lambda seconds=work_seconds: busy(seconds), 0.002)
                outcomes["done"] += 1
            except RenderTimeout:
                outcomes["timeout"] += 1
            # Unrelated work right after: a leaked stop would be raised in here.
            total = 0
            for number in range(3000):
                total += number
        deadline = time.monotonic() + 0.3
        while time.monotonic() < deadline:
            pass
    finally:
        sys.setswitchinterval(saved_interval)
    assert outcomes["done"] + outcomes["timeout"] == 400
    assert outcomes["done"] > 0 and outcomes["timeout"] > 0


def test_many_renders_with_tiny_timeouts_leak_nothing(context: dict) -> None:
    for _ in range(150):
        with contextlib.suppress(RenderTimeout):
            html("<p>{{ policy.number }}</p>", context, timeout=0.002)
    time.sleep(0.2)  # a stray stop would hit here
    assert "AUTO-" in html("<p>{{ policy.number }}</p>", context)


def test_non_plain_context_is_refused(context: dict) -> None:
    class Model:
        name = "x"

    with pytest.raises(RenderError, match="client.model"):
        html("x", {**context, "client": {**context["client"], "model": Model()}})


def test_markup_in_the_data_is_escaped_like_any_text(context: dict) -> None:
    from markupsafe import Markup

    data = {**context, "client": {**context["client"], "display_name": Markup("<i>x</i>")}}
    assert "&lt;i&gt;" in html("{{ client.display_name }}", data)


def test_unknown_format_and_locale_are_render_errors(context: dict) -> None:
    with pytest.raises(RenderError, match="output format"):
        render("x", "docx", context)
    with pytest.raises(RenderError, match="locale"):
        render("x", "html", context, locale="xx_YY")

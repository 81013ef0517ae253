"""The pure parts of the load benchmark (bench/load.py): mix, percentiles, settings, schedule.

No timing is asserted here: the benchmark measures, the tests check its arithmetic.
"""

from __future__ import annotations

import importlib.util
import math
import random
import sys
from collections import Counter
from pathlib import Path

import pytest

LOAD_PATH = Path(__file__).resolve().parent.parent / "bench" / "load.py"


def _load_module():
    spec = importlib.util.spec_from_file_location("bench_load", LOAD_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_load"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


load = _load_module()


def test_parse_mix_reads_weights_per_operation():
    assert load.parse_mix("list=50,read=35,create=15") == {"list": 50, "read": 35, "create": 15}
    assert load.parse_mix(" read = 1 ") == {"read": 1}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("list=50,delete=10", "unknown operation"),
        ("list=50,list=10", "twice"),
        ("list=half", "integer"),
        ("list=-1,read=2", "negative"),
        ("list=0,read=0", "positive"),
    ],
)
def test_parse_mix_refuses(text, message):
    with pytest.raises(ValueError, match=message):
        load.parse_mix(text)


def test_mix_draws_in_proportion_and_never_a_zero_weight():
    mix = load.Mix({"list": 50, "read": 35, "create": 15, "never": 0})
    rng = random.Random(2026)
    draws = Counter(mix.choose(rng) for _ in range(20_000))
    assert "never" not in draws
    # 20,000 draws with a fixed seed: each share within one point of its weight.
    for name, weight in {"list": 50, "read": 35, "create": 15}.items():
        assert abs(100 * draws[name] / 20_000 - weight) < 1.0


def test_mix_is_reproducible_for_a_seed():
    mix = load.Mix(load.parse_mix(load.DEFAULT_MIX))
    first = [mix.choose(random.Random("a-1")) for _ in range(5)]
    second = [mix.choose(random.Random("a-1")) for _ in range(5)]
    assert first == second


def test_percentile_is_nearest_rank():
    samples = list(range(100, 0, -1))  # unsorted on purpose: 100 .. 1
    assert load.percentile(samples, 0.50) == 50
    assert load.percentile(samples, 0.95) == 95
    assert load.percentile(samples, 0.99) == 99
    assert load.percentile(samples, 1.0) == 100
    assert load.percentile([3.0], 0.99) == 3.0
    # Two samples: the median is the lower one, p99 the higher one.
    assert load.percentile([1.0, 9.0], 0.5) == 1.0
    assert load.percentile([1.0, 9.0], 0.99) == 9.0
    assert math.isnan(load.percentile([], 0.5))
    with pytest.raises(ValueError):
        load.percentile(samples, 0)


def test_summarise_counts_throughput_and_milliseconds():
    summary = load.summarise([0.010, 0.020, 0.030, 0.040], window=2.0)
    assert summary == {"n": 4, "rps": 2.0, "p50": 20.0, "p95": 40.0, "p99": 40.0, "max": 40.0}
    empty = load.summarise([], window=1.0)
    assert empty["n"] == 0 and empty["rps"] == 0.0 and math.isnan(empty["p99"])


def test_setting_names_become_gunicorn_options():
    assert load.Setting.parse("conf").arguments() == []
    assert load.Setting.parse("w3").arguments() == ["--workers", "3"]
    assert load.Setting.parse("w2t4").arguments() == ["--workers", "2", "--threads", "4"]
    for bad in ("x2", "w", "w0", "w2t0", "w2tx"):
        with pytest.raises(ValueError):
            load.Setting.parse(bad)


def test_schedule_interleaves_settings_and_targets():
    plan = list(load.schedule(["a", "b", "c"], 2, [1, 50], ["fab", "hand"]))
    assert [setting for _round, setting, _items in plan] == ["a", "b", "c", "b", "c", "a"]
    first_round, second_round = plan[0][2], plan[3][2]
    assert first_round == [(1, "fab"), (1, "hand"), (50, "fab"), (50, "hand")]
    assert second_round == [(1, "hand"), (1, "fab"), (50, "hand"), (50, "fab")]
    # Every setting meets every (clients, target) once per round.
    for round_index in (0, 1):
        seen = {
            (setting, item)
            for index, setting, items in plan
            if index == round_index
            for item in items
        }
        assert len(seen) == 3 * 2 * 2


def test_cpu_spent_counts_a_new_process_from_zero():
    before = {10: 1.0, 11: 2.0}
    after = {10: 1.5, 11: 2.25, 12: 0.5}
    assert load.cpu_spent(before, after) == pytest.approx(1.25)


def test_countdown_bounds_the_requests():
    budget = load.countdown(3)
    assert [next(budget) for _ in range(5)] == [2, 1, 0, -1, -1]


def test_plan_sends_each_operation_to_its_target():
    plan = load.Plan({"policy_ids": [7], "client_ids": [3], "company_ids": [4]}, run_id="r1")
    rng = random.Random(1)
    method, path, body = plan.request("read", "fab", rng, "s1")
    assert (method, path, body) == ("GET", "/api/v1/policy/7", None)
    method, path, body = plan.request("list", "hand", rng, "s2")
    assert method == "GET" and path.startswith("/bench/policy/?q=(page:")
    method, path, body = plan.request("create", "fab", rng, "s3")
    assert (method, path) == ("POST", "/api/v1/policy/")
    assert b'"number": "LOAD-r1-s3"' in body and b'"client_id": 3' in body


@pytest.mark.parametrize(
    "option",
    [
        ["--postgres-url", "postgresql://postgres@db.example.com:5432/load"],
        ["--redis-url", "redis://10.0.0.5:6379/0"],
        ["--clients", "0"],
        ["--duration", "3600"],
    ],
)
def test_arguments_keep_the_run_on_loopback_and_bounded(option, capsys):
    with pytest.raises(SystemExit):
        load.parse_args(option)
    assert "error" in capsys.readouterr().err


def test_default_arguments_are_loopback_and_bounded():
    args = load.parse_args([])
    assert args.clients == [1, 10, 50] and args.settings == ["conf"]
    assert args.duration <= 60 and args.max_requests <= 20_000

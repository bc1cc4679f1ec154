"""Checks per second for the household economic survey (家计调查) with realistic valid data.

Prints the reference validator (jsonschema), the fastest fully compliant 2020-12 validator
(jsonschema_rs, with the same format checkers), our engine (conditions, messages, calculations recomputed and
checks across questions included),
the engine's share of the fastest rate, and the cost of the first check after compile_form.
Run: .venv/bin/python bench/validate.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import importlib.metadata  # noqa: E402

import jsonschema  # noqa: E402
import jsonschema_rs  # noqa: E402

from forms import builtin_forms, check, compile_form, compute  # noqa: E402
from forms.formats import FAST_FORMATS, reference_format_checker  # noqa: E402
from form_samples import sample  # noqa: E402


def rates(candidates: dict, data, rounds: int = 9, calls: int = 3000) -> dict[str, float]:
    """Best rate per candidate over interleaved rounds, so a noisy machine hurts all alike."""
    best = dict.fromkeys(candidates, 0.0)
    for _ in range(rounds):
        for name, func in candidates.items():
            start = time.perf_counter()
            for _ in range(calls):
                func(data)
            best[name] = max(best[name], calls / (time.perf_counter() - start))
    return best


def main(rounds: int = 9, calls: int = 3000) -> None:
    """Measure and print; tests/test_bench.py runs this with tiny counts so that it keeps running."""
    form = next(f for f in builtin_forms() if f["slug"] == "economic_survey")
    schema, ui = form["schema"], form["ui"]
    start = time.perf_counter()
    compiled = compile_form(schema, ui)
    # What a phone sends: its own calculated answers (ages, income total and per person) included.
    data = compute(compiled, sample("economic_survey")).data
    first = check(compiled, compute(compiled, data).data)
    first_ms = (time.perf_counter() - start) * 1000
    assert first == [], first

    def engine(d):  # the server's work on a submission: recompute every calculated answer, then check
        computed = compute(compiled, d)
        return check(compiled, computed.data), computed.differences

    # The raw validators get the schema without the engine's share of the work: the `required`
    # of conditionally shown questions (which the engine checks only when they are shown).
    plain = compiled.plain_schema
    reference = jsonschema.Draft202012Validator(plain, format_checker=reference_format_checker())
    fastest = jsonschema_rs.Draft202012Validator(plain, formats=FAST_FORMATS, validate_formats=True, offline=True)
    assert reference.is_valid(data) and fastest.is_valid(data)

    # For scale only: jsonschema_rs with its native formats, which skips 身份证号/手机号/照片 checks.
    native = jsonschema_rs.Draft202012Validator(plain, validate_formats=True, offline=True)
    # The reference is some fifty times slower: a third of the rounds of a fifteenth of the calls take as long.
    ref_rate = rates({"reference": reference.is_valid}, data, max(1, rounds // 3), max(1, calls // 15))["reference"]
    found = rates({"native": native.is_valid, "fastest": fastest.is_valid,
                   "engine": engine}, data, rounds, calls)
    native_rate, fast_rate, engine_rate = found["native"], found["fastest"], found["engine"]
    leaves = sum(1 for q in compiled.questions.values() if q.leaf)
    print(f"家计调查 economic_survey: {len(compiled.questions)} questions ({leaves} leaves), "
          f"{len(data['members'])} members")
    version = importlib.metadata.version("jsonschema")
    print(f"  jsonschema {version} (reference)            {ref_rate:>12,.0f} checks/s")
    print(f"  jsonschema_rs (fastest, raw)        {fast_rate:>12,.0f} checks/s  (same format checkers)")
    print(f"  jsonschema_rs, native formats only  {native_rate:>12,.0f} checks/s  (no ID/mobile/photo checks)")
    print(f"  doorstep engine compute() + check() {engine_rate:>12,.0f} checks/s  "
          f"({len(compiled.rules.calculations)} calculations, {len(compiled.rules.checks)} checks)")
    print(f"  engine / fastest                    {engine_rate / fast_rate:>12.2f}   (goal >= 0.60)")
    print(f"  compile_form + first check          {first_ms:>12.1f} ms (goal < 50 ms)")


if __name__ == "__main__":
    main()

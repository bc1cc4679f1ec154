"""The benchmarks keep running: each loads from a fresh clone as its docstring runs it, with every import it makes,
and the quick parts measure with tiny counts. A module moved elsewhere breaks this suite, not the next benchmark."""

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHES = sorted(path.name for path in (ROOT / "bench").glob("*.py"))

# Run as `python bench/<name>.py` runs it: the script's folder first on the path, not this suite's folders (tests/ is
# on this process's path, so a bench looking for a test helper in the wrong place would still find it here). Then
# every import in it, those inside functions too, is resolved without running the benchmark.
LOAD_LIKE_A_SCRIPT = """
import ast, importlib, importlib.util, sys
from pathlib import Path
path = sys.argv[1]
sys.path[0] = str(Path(path).resolve().parent)
spec = importlib.util.spec_from_file_location("bench_script", path)
spec.loader.exec_module(importlib.util.module_from_spec(spec))
for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
    if isinstance(node, ast.Import):
        for alias in node.names:
            importlib.import_module(alias.name)
    elif isinstance(node, ast.ImportFrom) and node.level == 0:
        module = importlib.import_module(node.module)
        for alias in node.names:
            if not hasattr(module, alias.name):
                importlib.import_module(f"{node.module}.{alias.name}")
"""


def load(name: str) -> ModuleType:
    """A bench script as a module of this process, its `__main__` part not run."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_there_are_benchmarks_to_check():
    assert {"ingest.py", "validate.py"} <= set(BENCHES)


@pytest.mark.parametrize("name", BENCHES)
def test_every_benchmark_loads_from_a_fresh_clone_with_all_it_imports(name):
    done = subprocess.run([sys.executable, "-c", LOAD_LIKE_A_SCRIPT, f"bench/{name}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_the_validation_benchmark_measures_and_prints_every_figure(capsys):
    load("validate").main(rounds=1, calls=2)
    printed = capsys.readouterr().out
    assert printed.count("checks/s") == 4 and "engine / fastest" in printed and "first check" in printed


async def test_the_ingest_benchmark_measures_submissions_against_its_baselines(settings, clean_database):
    rates = await load("ingest").bench_submissions(settings, total=8)
    assert len(rates) == 4 and all(rate > 0 for rate in rates)


async def test_the_sync_benchmark_measures_a_first_and_a_later_sync(settings, clean_database):
    figures = await load("sync").bench_sync(settings, households=6, changed=2)
    for sync in figures.values():
        assert 0 < sync["gzip"] < sync["identity"] and sync["pages"] >= 1


async def test_the_ledgers_benchmark_measures_an_export_and_the_pages(settings, clean_database):
    figures = await load("ledgers").bench_ledgers(settings, households=8, rounds=2)
    assert figures["lines"] == 16 and figures["export"]["bytes"] > 0 and figures["export"]["baseline"] > 0
    assert set(figures["memory"]) == {"community", "township"} and all(figures["memory"].values())
    assert set(figures["p95"]) == {"ledger page", "due list", "overdue counts"} and all(figures["p95"].values())


async def test_the_area_export_benchmark_measures_the_export_zip_0_and_memory(settings, clean_database, tmp_path):
    figures = await load("area_export").bench_export(settings, households=4, photos=8, photo_kb=20,
                                                     folder=tmp_path / "work")
    assert figures["large"]["households"] == 4 and figures["large"]["photos"] == 8
    assert figures["large"]["size"] > figures["zip0"]["size"] > 8 * 20 * 1024
    assert figures["stream"]["size"] > 0 and figures["small"]["rss_peak"] > figures["small"]["rss_before"] > 0


async def test_the_needs_benchmark_measures_the_report_against_a_hand_written_group_by(settings, clean_database):
    figures = await load("needs").bench_needs(settings, needs=300)
    assert figures["needs"] == 300 and figures["month"] > 0
    assert figures["report"] > 0 and figures["counts"] > 0 and figures["floor"] > 0


async def test_the_households_benchmark_measures_a_file_and_the_searches(settings, clean_database):
    bench = load("households")
    opened = await bench.bench_file(settings, visits=3, photos_each=2, rounds=2)
    assert opened["file"] > 0 and opened["baseline"] > 0 and opened["bytes"] > 0
    found = await bench.bench_search(settings, households=40, rounds=4, villages=(1, 2))
    assert set(found["p95"]) == {"name", "pinyin initials", "full pinyin", "ID number", "no filter"}
    assert all(found["p95"].values()) and found["found"] == dict.fromkeys(found["p95"], 1.0)


def test_the_field_app_benchmark_weighs_the_first_load(capsys):
    load("field_app").main()
    figures = load("field_app").weigh()
    assert 0 < figures["gzip"] < figures["identity"] and "首次加载" in capsys.readouterr().out


def test_the_photo_store_benchmark_measures_both_stores_and_prints_the_ratios(capsys, s3_server):
    load("photo_store").main(photos=2, rounds=1, size=100_000, server=s3_server)
    printed = capsys.readouterr().out
    assert "S3 / local" in printed and all(kind in printed for kind in ("upload", "put", "read"))

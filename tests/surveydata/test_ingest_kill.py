"""kill -9 at random moments of ``surveydata validate --out``: the folder holds either the
previous complete outputs or the new complete outputs, never a mix (surveydata.outputs)."""
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import schemas
from tests.export_factory import to_csv_bytes, to_text, valid_coded

ROOT = Path(__file__).resolve().parents[2]

# The command line, with every step of the writing and the swap slowed down so that a kill at a
# random moment lands inside it (the code itself is unchanged: only timing is added).
RUNNER = r"""
import sys, time
import surveydata.outputs as o
from surveydata import _safe_csv
real_sha, real_write, real_swap, real_tree = o.sha256_file, _safe_csv.write_csv, o._swap, o._fsync_tree
def sha(p):
    time.sleep(0.01)
    return real_sha(p)
def write(*a, **k):
    print("WRITING", flush=True)
    real_write(*a, **k)
    time.sleep(0.04)
def swap(*a):
    time.sleep(0.03)
    real_swap(*a)
    time.sleep(0.03)
def tree(*a):
    real_tree(*a)
    time.sleep(0.03)
o.sha256_file, _safe_csv.write_csv, o._swap, o._fsync_tree = sha, write, swap, tree
from surveydata.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _snapshot(out: Path) -> dict:
    return {p.relative_to(out).as_posix(): p.read_bytes()
            for p in sorted(out.rglob("*")) if p.is_file()}


def _complete(export, out):
    """A complete run, in this process (fast: nothing to import)."""
    from surveydata.cli import main

    assert main(["validate", str(export), "--out", str(out)]) == 0


def _run(export, out, kill_after):
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, "validate", str(export), "--out",
                             str(out)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    start = time.monotonic()
    line = proc.stdout.readline()  # the first output file is being written
    assert "WRITING" in line, proc.stderr.read()
    time.sleep(kill_after)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    return time.monotonic() - start


def _kill_many(tmp_path, delays):
    inst = schemas.load_instrument()
    old_export, new_export = tmp_path / "old.csv", tmp_path / "new.csv"
    old_export.write_bytes(to_csv_bytes(to_text(valid_coded(inst, 30, seed=1))))
    new_export.write_bytes(to_csv_bytes(to_text(valid_coded(inst, 40, seed=2))))
    reference = tmp_path / "reference"
    _complete(new_export, reference)
    new = _snapshot(reference)
    out = tmp_path / "out"
    _complete(old_export, out)
    old = _snapshot(out)
    assert old != new
    seen = {"old": 0, "new": 0}
    for delay in delays:
        _run(new_export, out, kill_after=delay)
        now = _snapshot(out)
        assert now in (old, new), f"a mix after kill -9 at {delay:.3f}s: {sorted(now)}"
        seen["old" if now == old else "new"] += 1
        if now == new:  # start again from the previous outputs
            _complete(old_export, out)
            assert _snapshot(out) == old
    _complete(new_export, out)  # a complete run afterwards cleans up what the killed runs left
    assert _snapshot(out) == new
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.csv", "old.csv", "out", "reference"]
    return seen


def test_kill_9_leaves_old_or_new_outputs_never_a_mix(tmp_path, capsys):
    # two kills (each a fresh interpreter, ~5 s): one while the files are written, one late
    seen = _kill_many(tmp_path, [0.02, 0.5])
    assert sum(seen.values()) == 2


@pytest.mark.slow
def test_kill_9_at_many_random_moments(tmp_path, capsys):
    rng = random.Random(12)
    seen = _kill_many(tmp_path, [rng.uniform(0, 0.6) for _ in range(25)])
    assert seen["old"] > 0 and seen["new"] > 0  # kills landed before and after the swap


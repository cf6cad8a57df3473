"""Outputs are a transaction (surveydata.outputs): swap into place, no links followed, nothing
deleted that the run did not write, a failed run leaves the previous outputs intact."""
import hashlib
import json
import os

import pytest

from surveydata.outputs import MANIFEST, OutputError, OutputFolder


def _write(out, files, **kw):
    with OutputFolder(out, command="test", **kw) as tx:
        for name, text in files.items():
            tx.write_text(name, text)
    return tx.result


def _tree(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_new_folder_gets_every_file_and_a_manifest_with_hashes(tmp_path):
    out = tmp_path / "a" / "out"
    res = _write(out, {"x.csv": "1\n", "sub/y.txt": "yy"})
    assert _tree(out).keys() == {"x.csv", "sub/y.txt", MANIFEST}
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["files"]["x.csv"]["sha256"] == hashlib.sha256(b"1\n").hexdigest()
    assert manifest["files"]["sub/y.txt"]["bytes"] == 2
    assert res.replaced == [] and res.kept == []
    # no staging folder is left beside it
    assert [p.name for p in out.parent.iterdir()] == ["out"]


def test_rerun_replaces_its_files_and_keeps_everything_else(tmp_path):
    out = tmp_path / "out"
    _write(out, {"x.csv": "old", "stale.csv": "from run 1"})
    (out / "notes.txt").write_text("mine")
    (out / "mydir").mkdir()
    (out / "mydir" / "deep.txt").write_text("deep")
    res = _write(out, {"x.csv": "new"})
    tree = _tree(out)
    assert tree["x.csv"] == b"new"
    assert tree["notes.txt"] == b"mine" and tree["mydir/deep.txt"] == b"deep"
    assert tree["stale.csv"] == b"from run 1"  # written by an earlier run, not by this one: kept
    assert res.replaced == [MANIFEST, "x.csv"]
    assert res.kept == ["mydir/deep.txt", "notes.txt", "stale.csv"]
    assert "kept, not written by this run: mydir/deep.txt, notes.txt, stale.csv" in res.summary()
    # remove_stale drops only what the previous manifest says an earlier run wrote
    res = _write(out, {"x.csv": "newer"}, remove_stale=True)
    assert "stale.csv" not in _tree(out) and res.removed == ["stale.csv"]
    assert _tree(out)["notes.txt"] == b"mine"


def test_plan_names_what_would_be_replaced(tmp_path):
    out = tmp_path / "out"
    _write(out, {"x.csv": "old"})
    (out / "notes.txt").write_text("mine")
    with OutputFolder(out) as tx:
        tx.write_text("x.csv", "new")
        tx.write_text("y.csv", "new")
        assert tx.plan() == {"replaced": [MANIFEST, "x.csv"], "kept": ["notes.txt"]}


def test_failed_run_leaves_previous_outputs_untouched(tmp_path):
    out = tmp_path / "out"
    _write(out, {"x.csv": "old", "r.json": "{}"})
    before = _tree(out)
    with pytest.raises(RuntimeError), OutputFolder(out) as tx:
        tx.write_text("x.csv", "half")
        raise RuntimeError("the run fails")
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_symlink_inside_out_is_refused_and_the_victim_untouched(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / "quarantine.csv").symlink_to("../victim.txt")
    with pytest.raises(OutputError, match=r"quarantine.csv: is a symbolic link \(to ../victim.txt\)"):
        _write(out, {"quarantine.csv": "x"})
    assert victim.read_text() == "precious"
    sub = tmp_path / "out2" / "d"
    sub.mkdir(parents=True)
    (sub / "l").symlink_to(victim)
    with pytest.raises(OutputError, match="symbolic link"):
        _write(tmp_path / "out2", {"a": "x"})


def test_out_itself_a_symlink_or_a_file_is_refused(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(OutputError, match="link: is a symbolic link"):
        _write(tmp_path / "link", {"a": "x"})
    (tmp_path / "f").write_text("")
    with pytest.raises(OutputError, match="not a folder"):
        _write(tmp_path / "f", {"a": "x"})


@pytest.mark.parametrize("name", ["../x", "/etc/x", "a/../../x", ""])
def test_names_outside_out_are_refused(tmp_path, name):
    with pytest.raises(OutputError, match="relative path inside --out"):
        _write(tmp_path / "out", {name: "x"})
    assert not (tmp_path / "x").exists()


def test_unwritable_parent_is_one_clear_message(tmp_path, monkeypatch):
    # (the tests run as root, which ignores folder permissions: the refusal is simulated)
    from surveydata import outputs

    def refuse(**kw):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(outputs.tempfile, "mkdtemp", refuse)
    with pytest.raises(OutputError, match=r"ro/out: cannot create a temporary folder beside "
                       r"it in .*ro \(Permission denied\)"):
        _write(tmp_path / "ro" / "out", {"a": "x"})


def test_leftover_staging_of_a_killed_run_is_cleaned_but_not_a_live_one(tmp_path):
    dead = tmp_path / ".out.surveydata-new-999999999-abc"
    dead.mkdir()
    (dead / "half.parquet").write_bytes(b"PAR1")
    live = tmp_path / f".out.surveydata-new-{os.getpid()}-xyz"
    live.mkdir()
    _write(tmp_path / "out", {"a": "x"})
    assert not dead.exists() and live.exists()

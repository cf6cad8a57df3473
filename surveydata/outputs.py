"""Write a command's outputs as one transaction: all new files or the previous ones, never a mix.

A command writes into a temporary sibling folder of ``--out`` (``.<name>.surveydata-*`` beside
it); on success every file is fsynced and the folder is swapped into place in one step, so that
a reader, a crash or ``kill -9`` at any moment sees either the previous complete outputs or the
new complete outputs. A run that fails (an exception inside the ``with`` block) leaves ``--out``
exactly as it was.

Rules:

* **Nothing the run did not write is deleted.** Files already in ``--out`` that this run does not
  write are carried over into the new folder (hard links, so no copy and no change), also stale
  outputs of an earlier run; `OutputFolder.plan` and the result list what is replaced and what is
  kept. (``remove_stale=True`` drops files that the *previous manifest* lists as written by an
  earlier surveydata run and that this run no longer writes - never anything else.)
* **No symbolic links are followed.** A symlink anywhere inside ``--out`` (e.g.
  ``quarantine.csv -> ../victim.txt``) is refused with an `OutputError` before anything is
  written; ``--out`` itself may not be a symlink either (pass the folder it points to).
* **A manifest.** ``manifest.json`` lists every file the run wrote with its sha256 and size, the
  files kept from before, and the command. `OutputFolder.sha256` gives the hashes of the files
  written so far, for a report written last (``report.json`` carries them).
* The swap is Linux's ``renameat2(RENAME_EXCHANGE)`` (atomic exchange of two folders). Where it
  is unavailable, the previous folder is renamed aside, the new one renamed into place and the
  old one removed; a crash between the two renames leaves the previous outputs complete in the
  sibling ``.<name>.surveydata-old-*`` folder (named in the next run's error message).

Example (file names are relative to ``--out``; sub-folders are allowed)::

    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "results"
    >>> with OutputFolder(out, command="demo") as tx:
    ...     tx.write_text("a.txt", "hello\\n")
    ...     df_path = tx.path("tables/b.csv")        # a path to hand to to_csv/to_parquet
    ...     _ = df_path.write_text("x\\n1\\n")
    ...     hashes = tx.sha256()                      # {'a.txt': '5891...', 'tables/b.csv': ...}
    ...     tx.write_text("report.json", "{}\\n")
    >>> sorted(tx.result.written)
    ['a.txt', 'manifest.json', 'report.json', 'tables/b.csv']
    >>> (out / "a.txt").read_text()
    'hello\\n'
"""
from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Self

from surveydata.errors import SurveyDataError

__all__ = ["MANIFEST", "OutputError", "OutputFolder", "OutputResult", "sha256_file"]

MANIFEST = "manifest.json"
_STAGING_TAG = ".surveydata-new-"
_OLD_TAG = ".surveydata-old-"
_RENAME_EXCHANGE = 2


class OutputError(SurveyDataError):
    """An output folder that cannot be written safely; the message names the path and the fix.

    >>> str(OutputError("out/quarantine.csv", "is a symbolic link"))
    'out/quarantine.csv: is a symbolic link'
    """

    def __init__(self, path, message):
        self.path, self.message = str(path), message
        super().__init__(f"{self.path}: {message}")


@dataclass
class OutputResult:
    """What a committed transaction did (names relative to ``out``).

    written   files this run wrote (with the manifest)
    replaced  of those, files that existed before and were replaced
    kept      files that were there before and were not written by this run (carried over)
    removed   stale files of an earlier run dropped with ``remove_stale=True``
    """

    out: Path
    written: dict[str, str] = field(default_factory=dict)  # name -> sha256
    replaced: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One or two lines for a terminal.

        >>> OutputResult(Path("out"), {"a.csv": "0"}, ["a.csv"], ["notes.txt"]).summary()
        'written to out/: a.csv (replaced: a.csv; kept, not written by this run: notes.txt)'
        """
        text = f"written to {self.out}/: {', '.join(n for n in self.written if n != MANIFEST)}"
        notes = []
        replaced = [n for n in self.replaced if n != MANIFEST]
        if replaced:
            notes.append("replaced: " + ", ".join(replaced))
        if self.kept:
            notes.append("kept, not written by this run: " + ", ".join(self.kept[:10])
                         + (f" ... ({len(self.kept) - 10} more)" if len(self.kept) > 10 else ""))
        if self.removed:
            notes.append("removed stale outputs of an earlier run: " + ", ".join(self.removed))
        return text + (f" ({'; '.join(notes)})" if notes else "")


def sha256_file(path) -> str:
    """The sha256 of a file's bytes, read in 1 MB blocks.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "x"); _ = open(p, "wb").write(b"abc")
    >>> sha256_file(p)[:12]
    'ba7816bf8f01'
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class OutputFolder:
    """A transaction on an output folder: ``with OutputFolder(out) as tx: ...`` (see the module).

    Methods inside the block: `path` (a staging path to write to), `write_text`, `write_bytes`,
    `sha256` (hashes of what was written so far), `plan` (what the commit would replace and
    keep). After the block, ``tx.result`` is an `OutputResult`. Not reusable.
    """

    def __init__(self, out, command: str = "", remove_stale: bool = False):
        self.out = Path(out)
        self.command = command
        self.remove_stale = remove_stale
        self.result: OutputResult | None = None
        self._staging: Path | None = None

    # -- entering: checks, then a fresh staging folder ---------------------------------------

    def __enter__(self) -> Self:
        out = self.out
        if out.is_symlink():
            raise OutputError(out, f"is a symbolic link (to {os.readlink(out)}); outputs are "
                              "never written through links: pass the folder it points to")
        if out.exists() and not out.is_dir():
            raise OutputError(out, "exists and is not a folder: choose another --out")
        if out.is_dir():
            _refuse_links(out)
        parent = out.absolute().parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise OutputError(parent, f"cannot create the folder ({err.strerror or err})") from None
        _clean_leftovers(parent, out.name)
        try:
            self._staging = Path(tempfile.mkdtemp(
                prefix=f".{out.name}{_STAGING_TAG}{os.getpid()}-", dir=parent))
        except OSError as err:
            raise OutputError(out, f"cannot create a temporary folder beside it in {parent} "
                              f"({err.strerror or err}); outputs are written there first and "
                              "then swapped into place: choose an --out whose parent folder is "
                              "writable") from None
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None:
            self._discard()
            return False
        try:
            self._commit()
        except BaseException:
            self._discard()
            raise
        return False

    # -- writing ---------------------------------------------------------------------------

    def path(self, name: str) -> Path:
        """Where to write output ``name`` (relative, ``/``-separated); folders are created.

        >>> OutputFolder("o").path("../x")   # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        OutputError: ../x: an output name must be a relative path inside --out
        """
        rel = PurePosixPath(name)
        if not name or rel.is_absolute() or ".." in rel.parts or "\\" in name:
            raise OutputError(name, "an output name must be a relative path inside --out "
                              "(no '..', no leading '/')")
        if self._staging is None:
            raise OutputError(name, "write outputs inside 'with OutputFolder(out) as tx:'")
        target = self._staging.joinpath(*rel.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def write_bytes(self, name: str, data: bytes) -> None:
        """Write ``data`` to output ``name``."""
        self.path(name).write_bytes(data)

    def write_text(self, name: str, text: str, encoding: str = "utf-8") -> None:
        """Write ``text`` (UTF-8, line ends as given) to output ``name``."""
        self.write_bytes(name, text.encode(encoding))

    def sha256(self) -> dict[str, str]:
        """sha256 of every file written so far, by name (sorted), e.g. for ``report.json``."""
        return {name: sha256_file(self._staging / name) for name in self._written_names()}

    def plan(self) -> dict[str, list[str]]:
        """What a commit now would do to ``out``: ``replaced`` (written and there before) and
        ``kept`` (there before, not written by this run)."""
        before = set(_files(self.out)) if self.out.is_dir() else set()
        written = set(self._written_names()) | {MANIFEST}
        return {"replaced": sorted(before & written), "kept": sorted(before - written)}

    # -- commit ----------------------------------------------------------------------------

    def _written_names(self) -> list[str]:
        return _files(self._staging)

    def _commit(self) -> None:
        out, staging = self.out, self._staging
        hashes = self.sha256()
        before = _files(out) if out.is_dir() else []
        if out.is_dir():
            _refuse_links(out)  # again: a link placed while the run was working
        previous = _read_manifest(out)
        stale = set(previous) - set(hashes) - {MANIFEST} if self.remove_stale else set()
        kept = [n for n in before if n not in hashes and n != MANIFEST and n not in stale]
        for name in kept:  # carry over what this run did not write (hard links: no copy)
            _link_or_copy(out / name, staging / name)
        manifest = {"command": self.command,
                    "files": {n: {"sha256": h, "bytes": (staging / n).stat().st_size}
                              for n, h in hashes.items()},
                    "kept_not_written_by_this_run": kept,
                    "earlier_outputs": sorted(previous & set(kept))}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False)
                                        + "\n", encoding="utf-8")
        hashes[MANIFEST] = sha256_file(staging / MANIFEST)
        _fsync_tree(staging)
        mode = stat.S_IMODE(out.stat().st_mode) if out.is_dir() else _default_dir_mode()
        os.chmod(staging, mode)
        _swap(staging, out)
        _fsync_dir(out.absolute().parent)
        if staging.exists():  # the previous folder, now at the staging path
            shutil.rmtree(staging, ignore_errors=True)
        self._staging = None
        self.result = OutputResult(out=out, written=hashes,
                                   replaced=sorted(n for n in before if n in hashes),
                                   kept=kept, removed=sorted(stale & set(before)))

    def _discard(self) -> None:
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None


# ---------------------------------------------------------------------------------------------


def _files(root: Path) -> list[str]:
    """Every regular file under ``root`` as a sorted relative ``/`` path (links not followed)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        rel = Path(dirpath).relative_to(root)
        for f in filenames:
            found.append((rel / f).as_posix() if rel.parts else f)
        dirnames.sort()
    return sorted(found)


def _refuse_links(root: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            if p.is_symlink():
                raise OutputError(p, f"is a symbolic link (to {os.readlink(p)}); outputs are "
                                  "never written through links: remove it or choose another --out")
            if not (p.is_dir() or p.is_file()):
                raise OutputError(p, "is not a regular file or folder (a device, pipe or "
                                  "socket): remove it or choose another --out")


def _link_or_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:
        shutil.copy2(src, dst, follow_symlinks=False)


def _read_manifest(out: Path) -> set[str]:
    """Files that earlier surveydata runs wrote into ``out`` (by its manifest)."""
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        return set(data.get("files", {})) | set(data.get("earlier_outputs", []))
    except (OSError, ValueError, AttributeError, TypeError):
        return set()


def _fsync_tree(root: Path) -> None:
    for dirpath, _, filenames in os.walk(root):
        for f in filenames:
            fd = os.open(os.path.join(dirpath, f), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(dirpath))


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _default_dir_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two folders (Linux renameat2); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    rc = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False  # the file system or kernel cannot exchange
    raise OutputError(b, f"cannot swap the new outputs into place ({os.strerror(code)})")


def _swap(staging: Path, out: Path) -> None:
    """Put ``staging`` at ``out``; the previous ``out`` (if any) ends at ``staging``."""
    try:
        if not out.exists():
            os.rename(staging, out)
            staging.mkdir()  # so that the caller's cleanup finds an (empty) folder
            return
        if _exchange(staging, out):
            return
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}{_OLD_TAG}", dir=out.absolute().parent))
        os.rmdir(old)
        os.rename(out, old)
        os.rename(staging, out)
        os.rename(old, staging)
    except OSError as err:
        raise OutputError(out, f"cannot move the new outputs into place "
                          f"({err.strerror or err}); the previous outputs are unchanged") from None


def _clean_leftovers(parent: Path, name: str) -> None:
    """Remove staging folders of earlier runs into ``name`` that were killed (their process is
    gone); a folder with the previous outputs set aside (``-old-``) is reported, never removed."""
    for p in parent.glob(f".{name}{_OLD_TAG}*"):
        raise OutputError(p, "holds the outputs of an earlier run that was interrupted while "
                          f"swapping them into place: move it back to {parent / name} (or remove "
                          "it) and run again")
    for p in parent.glob(f".{name}{_STAGING_TAG}*"):
        pid = p.name[len(f".{name}{_STAGING_TAG}"):].split("-", 1)[0]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

"""`make lab`'s server starts (as root too) and answers its REST API.

The Makefile adds --allow-root when run as root (containers, JupyterHub images) and passes
ARGS through; this test runs the same command line the target runs, with ARGS for a fixed
port and token, and queries /api/status and /api/contents/ for the notebooks.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, token: str):
    req = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status, json.loads(r.read())


def test_make_lab_serves_the_notebooks(tmp_path):
    port, token = _free_port(), "t0ken-for-test"
    args = (f"--no-browser --ip=127.0.0.1 --port={port} --IdentityProvider.token={token} "
            f"--ServerApp.open_browser=False")
    bindir = str(Path(sys.executable).parent)
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ["PATH"],
               JUPYTER_RUNTIME_DIR=str(tmp_path), JUPYTER_DATA_DIR=str(tmp_path / "data"))
    # the Makefile's own recipe, with its venv replaced by the one running the tests
    # run as a make of its own (under `make test` the parent's MAKEFLAGS would add directory lines)
    make_env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    out = subprocess.run(["make", "--no-print-directory", "-n", "lab", f"ARGS={args}", f"BIN={bindir}"],
                         cwd=ROOT, env=make_env, capture_output=True, text=True, check=True).stdout
    recipe = next(line for line in out.splitlines() if "jupyter lab" in line)
    assert f"--port={port}" in recipe
    proc = subprocess.Popen(["bash", "-c", recipe], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body = _get(f"http://127.0.0.1:{port}/api/status", token)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(proc.stderr.read().decode()[-2000:]) from None
                time.sleep(0.5)
        assert status == 200 and "started" in body
        status, listing = _get(f"http://127.0.0.1:{port}/api/contents/", token)
        names = {item["name"] for item in listing["content"]}
        assert any(n.endswith(".ipynb") for n in names), names
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=20)

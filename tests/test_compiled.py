"""The compiled simulator (gongzhi/compiled.py) is a cache of its source: the same output, and never stale."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gongzhi.compiled import COMPILED, EXTENSION_SUFFIX, ROOT, STAMP, compiled_modules, discard_stale

# runs a small simulation (both strand workers and the file phase) and says which modules ran compiled
DRIVER = """
import sys
from pathlib import Path
from simulator import SimulationConfig, simulate
from gongzhi.compiled import compiled_modules
home = Path(sys.argv[1])
simulate(SimulationConfig(days=3, per_day=600, seed=11, compact_12345=True), home / "landing", home / "truth", workers=2)
print(",".join(compiled_modules("simulator")))
"""


def _run(home: Path, python_path: Path | None = None) -> tuple[str, dict[str, str]]:
    env = dict(os.environ)
    if python_path is not None:
        env["PYTHONPATH"] = str(python_path)
    done = subprocess.run([sys.executable, "-c", DRIVER, str(home)], capture_output=True, text=True, env=env,
                          check=True, cwd=python_path or ROOT)
    files = {str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted(home.rglob("*")) if p.is_file()}
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "", files


def test_the_compiled_simulator_writes_the_same_bytes_as_plain_python(tmp_path):
    import simulator.feeds  # noqa: F401  (every compiled module loaded)

    if compiled_modules("simulator") != list(COMPILED["simulator"]):
        pytest.skip("the simulator is not compiled here (make setup compiles it where there is a C compiler)")
    plain = tmp_path / "plain"
    shutil.copytree(ROOT / "simulator", plain / "simulator", ignore=shutil.ignore_patterns("*.so", STAMP, "__pycache__"))

    compiled_ran, compiled_files = _run(tmp_path / "out_compiled")
    plain_ran, plain_files = _run(tmp_path / "out_plain", python_path=plain)

    assert compiled_ran == ",".join(COMPILED["simulator"])
    assert plain_ran == ""
    assert len(compiled_files) > 20 and any(name.startswith("landing/12345/") for name in compiled_files)
    assert compiled_files == plain_files


def test_an_extension_whose_source_changed_is_discarded_and_a_current_one_kept(tmp_path):
    package = tmp_path / "simulator"
    package.mkdir()
    for module in ("generator", "text"):
        (package / f"{module}.py").write_text(f"NAME = {module!r}\n")
        (package / f"{module}{EXTENSION_SUFFIX}").write_bytes(b"not really an extension")
    digest = hashlib.sha256((package / "text.py").read_bytes()).hexdigest()
    (package / STAMP).write_text(json.dumps({"text": digest, "generator": digest}))

    with pytest.warns(UserWarning, match="generator discarded"):
        assert discard_stale(package) == ["generator"]

    assert not (package / f"generator{EXTENSION_SUFFIX}").exists()
    assert (package / f"text{EXTENSION_SUFFIX}").exists()
    (package / "text.py").write_text("NAME = 'edited'\n")
    with pytest.warns(UserWarning, match="text discarded"):
        assert discard_stale(package) == ["text"]
    assert not list(package.glob("*.so"))


def test_without_a_stamp_every_extension_is_discarded(tmp_path):
    (tmp_path / "rng.py").write_text("")
    (tmp_path / f"rng{EXTENSION_SUFFIX}").write_bytes(b"")
    with pytest.warns(UserWarning):
        assert discard_stale(tmp_path) == ["rng"]


def test_a_stale_extension_that_cannot_be_deleted_stops_the_import(tmp_path, monkeypatch):
    (tmp_path / "rng.py").write_text("")
    (tmp_path / f"rng{EXTENSION_SUFFIX}").write_bytes(b"")

    def refuse(path, missing_ok=False):  # as in a read-only directory (chmod does not stop root)
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(Path, "unlink", refuse)
    with pytest.raises(ImportError, match="is stale"):
        discard_stale(tmp_path)

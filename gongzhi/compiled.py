"""Hot modules compiled to C with Cython: the same Python code, run without the interpreter's dispatch loop.

`make setup` runs `python -m gongzhi.compiled`: Cython translates each module of `COMPILED` as it is (no type
annotations, no other source) and the machine's C compiler builds it into an extension beside its source
(`simulator/generator.cpython-311-x86_64-linux-gnu.so`), which Python imports instead of the `.py`. The simulator then
writes the same bytes with less CPU (a fifth in short runs, about a tenth at a year's density: docs/simulator.md,
ninth session). Without a C compiler the step says so and everything runs as plain Python.

An extension is a cache of its source, like a `.pyc`: the stamp file beside it records the sha256 of the source each
was built from, and `discard_stale` (called by the package's `__init__` before any of its modules load) deletes an
extension whose source has changed since, so an edited module never runs stale code.
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.machinery
import json
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Lock

ROOT = Path(__file__).resolve().parent.parent
# package -> its modules worth compiling: the simulator's strands and file phase (the catalogue and the CLI run once)
COMPILED: dict[str, tuple[str, ...]] = {
    "simulator": ("generator", "handling", "text", "placement", "store12345", "geography", "rng", "feeds"),
}
STAMP = "_compiled.json"  # in the package's directory: {module: sha256 of the source its extension was built from}
EXTENSION_SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]  # e.g. .cpython-311-x86_64-linux-gnu.so


def _digest(source: Path) -> str:
    return hashlib.sha256(source.read_bytes()).hexdigest()


def _stamp(package_dir: Path) -> dict[str, str]:
    try:
        return json.loads((package_dir / STAMP).read_text())
    except (OSError, ValueError):
        return {}


def discard_stale(package_dir: Path) -> list[str]:
    """Delete every extension in `package_dir` not built from its source as it is now; return the modules deleted."""
    built = _stamp(package_dir)
    discarded = []
    for extension in sorted(package_dir.glob("*.so")):
        module = extension.name.split(".", 1)[0]
        source = package_dir / f"{module}.py"
        if source.exists() and built.get(module) == _digest(source):
            continue
        try:
            extension.unlink(missing_ok=True)
        except OSError as e:  # it would load instead of its source: refuse rather than run stale code
            raise ImportError(f"{extension} is stale (its source changed since it was built) and cannot be deleted "
                              f"({e}): delete it or run `make setup`") from e
        discarded.append(module)
    if discarded:
        warnings.warn(f"{package_dir.name}: compiled {', '.join(discarded)} discarded (its source changed since it was "
                      "built); running it as plain Python until `make setup` compiles it again", stacklevel=2)
    return discarded


def compiled_modules(package: str) -> list[str]:
    """The modules of `package` that are loaded from a compiled extension in this process."""
    return [m for m in COMPILED.get(package, ())
            if getattr(sys.modules.get(f"{package}.{m}"), "__file__", "").endswith(".so")]


def _compiler() -> list[str] | None:
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    command = shlex.split(cc)
    return command if command and shutil.which(command[0]) else None


def _write_stamp(package_dir: Path, stamp: dict[str, str]) -> None:
    tmp = package_dir / f"{STAMP}.tmp"
    tmp.write_text(json.dumps(stamp, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, package_dir / STAMP)  # whole or not at all: another process may be reading it in discard_stale


def _build_one(package: str, module: str, work: Path, cc: list[str], stamp: dict[str, str], lock: Lock) -> None:
    source = ROOT / package / f"{module}.py"
    digest = _digest(source)  # taken before the build: a source edited meanwhile is caught as stale at the next import
    c_file = work / f"{module}.c"
    # annotation_typing=False: annotations stay documentation, as in Python (with it on, `x: dict = defaultdict()`
    # raises, and a `float` annotation coerces): the compiled module must mean exactly what the source means
    subprocess.run([sys.executable, "-m", "cython", "-3", "-X", "annotation_typing=False", "--module-name", f"{package}.{module}", str(source),
                    "-o", str(c_file)], check=True)
    built = work / f"{module}{EXTENSION_SUFFIX}"
    subprocess.run([*cc, "-shared", "-fPIC", "-O2", "-I", sysconfig.get_paths()["include"], str(c_file),
                    "-o", str(built)], check=True)
    with lock:  # the stamp first, then the extension: an import in between never sees an extension it cannot vouch for
        stamp[module] = digest
        _write_stamp(source.parent, stamp)
        os.replace(built, source.parent / built.name)


def build(packages: dict[str, tuple[str, ...]] = COMPILED, workers: int = 2) -> int:
    """Compile the modules whose extension is missing or stale; 0 when done (or when there is no C compiler)."""
    cc = _compiler()
    if cc is None:
        print("gongzhi.compiled: no C compiler found: the simulator runs as plain Python (the same output, more CPU)")
        return 0
    try:
        import Cython  # noqa: F401  (a dependency of the default groups; checked here for a clear message)
    except ImportError:
        print("gongzhi.compiled: Cython is not installed (uv sync installs it): nothing compiled", file=sys.stderr)
        return 1
    for package, modules in packages.items():
        package_dir = ROOT / package
        discard_stale(package_dir)
        stamp = _stamp(package_dir)
        todo = [m for m in modules if not (package_dir / f"{m}{EXTENSION_SUFFIX}").exists()]
        if not todo:
            continue
        print(f"gongzhi.compiled: compiling {package}: {', '.join(todo)}")
        lock = Lock()
        with tempfile.TemporaryDirectory(prefix="gongzhi-compile-") as work, ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda m: _build_one(package, m, Path(work), cc, stamp, lock), todo))
    return 0


def clean(packages: dict[str, tuple[str, ...]] = COMPILED) -> None:
    for package in packages:
        for path in [*(ROOT / package).glob("*.so"), ROOT / package / STAMP]:
            path.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gongzhi.compiled", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clean", action="store_true", help="delete the compiled extensions instead")
    args = parser.parse_args(argv)
    if args.clean:
        clean()
        return 0
    return build()


if __name__ == "__main__":
    raise SystemExit(main())

"""The installable package: pyproject.toml against the lock (requirements.txt), the tree and the
zoo; the `aecore` command line; and (slow) the wheel built from this tree, installed into a fresh
virtual environment, where `aecore app` serves every page with the shipped zoo."""
from __future__ import annotations

import asyncio
import ast
import os
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import aecore
from aecore import launch
from aecore.measure.zoo import load_recipe
from aecore.notebook import PAGES

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def locked() -> dict[str, str]:
    """requirements.txt as {name: exact version}."""
    lines = [line.split("#")[0].strip() for line in (REPO / "requirements.txt").read_text().splitlines()]
    pins = [Requirement(line) for line in lines if line]
    assert all(len(p.specifier) == 1 and next(iter(p.specifier)).operator == "==" for p in pins), pins
    return {p.name.lower(): next(iter(p.specifier)).version for p in pins}


def test_every_locked_version_lies_in_the_package_ranges():
    ranges = {r.name.lower(): r for r in map(Requirement, PYPROJECT["project"]["dependencies"])}
    pins = locked()
    assert set(ranges) == set(pins), "pyproject.toml and requirements.txt name different packages"
    outside = {name: f"{version} not in {ranges[name].specifier}" for name, version in pins.items()
               if not ranges[name].specifier.contains(version)}
    assert not outside, outside
    assert pins["torch"] == "2.13.0"  # the CPU build on this machine's disk


def test_the_package_lists_every_folder_of_code_and_the_whole_zoo():
    tool = PYPROJECT["tool"]["setuptools"]
    code = {".".join(p.relative_to(REPO).parts) for p in (REPO / "aecore").rglob("*") if any(p.glob("*.py"))}
    code -= {c for c in code if "__pycache__" in c}
    assert code <= set(tool["packages"]), f"add {sorted(code - set(tool['packages']))} to pyproject.toml's packages"
    shipped = {Path(p).parent.name for p in tool["package-data"]["aecore_app"] if p.endswith("/*")}
    assert shipped == set(load_recipe()), "pyproject.toml's package-data must list each zoo entry of recipe.json"


def test_the_app_and_the_zoo_are_found_from_the_library():
    assert launch.app_root() == REPO and (launch.app_root() / "app.py").is_file()
    assert launch.zoo_dir() == REPO / "checkpoints"
    assert launch.command(8502, "127.0.0.1")[1:4] == ["-m", "streamlit", "run"]


def test_the_notebook_knows_every_page_of_the_app():
    """aecore.notebook.PAGES against app.py's st.navigation: each title and the URL path
    Streamlit gives its file (the name without its number) or the url_path it sets."""
    pages = {}
    for call in ast.walk(ast.parse((REPO / "app.py").read_text())):
        if isinstance(call, ast.Call) and getattr(call.func, "attr", "") == "Page":
            kw = {k.arg: k.value.value for k in call.keywords if isinstance(k.value, ast.Constant)}
            stem = Path(call.args[0].value).stem.split("_", 1)[1]
            pages[kw["title"].lower()] = "" if kw.get("default") else kw.get("url_path", stem)
    assert pages == PAGES


def cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "aecore", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_the_command_line_has_app_and_version_and_keeps_its_commands():
    assert cli("--version").stdout.strip() == f"aecore {aecore.__version__}"
    usage = cli("--help").stdout
    for command in ("app", "train", "evaluate", "export-onnx", "download", "zoo", "report"):
        assert command in usage
    missing = cli("app", "--checkpoints", "/no/such/folder")
    assert missing.returncode == 2 and "/no/such/folder: no such folder" in missing.stderr
    assert "| ae-2d" in cli("report").stdout  # an old command, unchanged


# ------------------------------------------------------------------ the wheel in a fresh environment
def build_wheel(tmp: Path) -> Path:
    """The wheel of this tree, built from a copy of it (so no build/ or egg-info lands here)."""
    source = tmp / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "__pycache__", ".pytest_cache", ".hypothesis", "build", "dist", "*.egg-info", "tests",
        "benchmarks", "failures", "tmp", ".cache"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation",
                    "--quiet", "--wheel-dir", str(tmp / "dist")], check=True, timeout=300)
    return next((tmp / "dist").glob("aecore-*.whl"))


def shipped_files() -> set[str]:
    """What the wheel must hold of this tree: every module, the app's files and the zoo."""
    files = {f"aecore_app/{p.relative_to(REPO)}" for folder in ("ui", "pages") for p in (REPO / folder).glob("*.py")}
    files |= {str(p.relative_to(REPO)) for p in (REPO / "aecore").rglob("*.py")}
    files |= {f"aecore_app/checkpoints/{name}/{f.name}" for name in load_recipe()
              for f in (REPO / "checkpoints" / name).iterdir()}
    return files | {"aecore_app/app.py", "aecore_app/.streamlit/config.toml", "aecore_app/checkpoints/recipe.json"}


def install(wheel: Path, venv: Path) -> Path:
    """A fresh virtual environment with the wheel, its dependencies found by pip at the locked
    versions; the environment's bin/."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    pip = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
                          "--no-compile", "--constraint", str(REPO / "requirements.txt"), str(wheel)],
                         capture_output=True, text=True, timeout=1200)
    assert pip.returncode == 0, (pip.stdout + pip.stderr)[-4000:]
    return venv / "bin"


async def visit_every_page(url: str) -> dict[str, list[str]]:
    """{page path: its errors, and what it says when it has no checkpoint} in one session."""
    from benchmarks.sessions import Session

    class Visitor(Session):
        def _saw(self, element, run):
            super()._saw(element, run)
            if element.WhichOneof("type") == "selectbox" and element.selectbox.id.endswith("-checkpoint"):
                self.picker = list(element.selectbox.options)
            elif element.WhichOneof("type") == "alert" and "No checkpoint" in element.alert.body:
                run.errors.append(element.alert.body)

    found = {}
    async with Visitor(url, timeout_s=300) as visitor:
        for path in PAGES.values():
            visitor.page = path
            found[path] = (await visitor.run()).errors
        found["picker"] = visitor.picker
    return found


@pytest.mark.slow
def test_the_wheel_installs_into_a_fresh_environment_and_serves_every_page(tmp_path):
    start = time.monotonic()
    wheel = build_wheel(tmp_path)
    built = time.monotonic()
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
    assert not shipped_files() - names, sorted(shipped_files() - names)[:10]
    assert not {n for n in names if n.startswith(("tests/", "benchmarks/"))}
    print(f"\nwheel {wheel.name}: {wheel.stat().st_size / 2**20:.1f} MB, built in {built - start:.0f} s")

    bin_ = install(wheel, tmp_path / "venv")
    installed = time.monotonic()
    print(f"fresh environment with its dependencies: {installed - built:.0f} s")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "data").mkdir(parents=True)  # no full MNIST: the bundled sample
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AECORE_", "PYTHON"))}
    env.update(AECORE_DATA_DIR=str(elsewhere / "data"), AECORE_NO_WARMUP="1", AECORE_CACHE_DIR=str(tmp_path / "cache"))
    version = subprocess.run([bin_ / "aecore", "--version"], cwd=elsewhere, env=env, capture_output=True, text=True)
    assert version.stdout.strip() == f"aecore {aecore.__version__}"
    root = subprocess.run([bin_ / "python", "-c", "from aecore.launch import app_root; print(app_root())"],
                          cwd=elsewhere, env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert Path(root).is_relative_to(tmp_path / "venv") and Path(root).name == "aecore_app"

    port = launch_port()
    server = subprocess.Popen([bin_ / "aecore", "app", "--port", str(port)], cwd=elsewhere, env=env,
                              stdout=open(tmp_path / "server.log", "w"), stderr=subprocess.STDOUT,
                              start_new_session=True)  # its own group, stopped whole below
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while not launch.healthy(url):
            assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "server.log").read_text()
            time.sleep(0.3)
        pages = asyncio.run(visit_every_page(url))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
    print(f"every page served: {time.monotonic() - installed:.0f} s")
    picker = pages.pop("picker")
    assert sorted(label.split(" ")[0] for label in picker) == sorted(load_recipe()), picker
    assert pages == {path: [] for path in PAGES.values()}, (tmp_path / "server.log").read_text()[-3000:]


def launch_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

"""hpwidgets as its users install it, each way tested as installed: not editable, outside the
checkout, in a fresh virtual environment.

- ``python -m build`` makes the sdist and the wheel from a clean copy of this checkout (the files
  git tracks: no node_modules, no built sidebar, so the build backend builds it); the wheel is
  built from the sdist, as a release is.
- The wheel and the sdist are installed in parallel, each into a fresh venv, the sdist with no
  node or npm on PATH. In each, ``jupyter labextension list`` and ``jupyter server extension
  list`` show hpwidgets enabled, ``hpw --version`` and ``import hpwidgets`` answer from the venv;
  the Runs sidebar of the installed wheel lists and opens a batch in a real browser.
- ``pip install`` of a clean copy builds the sidebar when node is there, and without node stops
  in one line that says what to install.

They take minutes (the pip cache is reused): ``-m install`` selects them, ``-m "not install"``
leaves them out; the browser one is also marked ``e2e``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import hpwidgets
from tests.e2e.conftest import running_lab
from tests.e2e.notebook_page import TOKEN

pytestmark = pytest.mark.install

REPO = Path(__file__).resolve().parents[1]
VERSION = hpwidgets.__version__
ANSI = re.compile(r"\x1b\[[0-9;]*m")
NO_NODE = ("the Runs sidebar is built with node and npm, and node and npm are not on PATH: install Node.js 18 or "
           "newer with npm (Debian/Ubuntu: apt-get install nodejs npm)")
ELSE_A_DIST = ", or install hpwidgets from a wheel or an sdist, which carry the sidebar built"
SIDEBAR_FILES = {"package.json", "static/style.js"}  # besides the webpack chunks, named by their hashes


def environment(path: str | None = None, **extra: str) -> dict[str, str]:
    """This process's environment without what would point a venv back at this checkout or at
    another venv; ``path`` replaces PATH (a venv's bin alone: no node, no npm)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    if path is not None:
        assert shutil.which("node", path=path) is None and shutil.which("npm", path=path) is None
        env["PATH"] = path
    return {**env, **extra}


def run_together(jobs: list[tuple[list[str], Path, dict[str, str]]], cwd: Path) -> list[str]:
    """Run every (command, log, env) at once, each one's output to its log; when all are done,
    fail with the end of the output of any that did not exit 0. Their outputs, in order."""
    procs = []
    for command, log, env in jobs:
        with open(log, "w") as out:
            procs.append(subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, env=env))
    codes = []
    for proc in procs:
        try:
            codes.append(proc.wait(900))
        except subprocess.TimeoutExpired:
            proc.kill()
            codes.append(f"killed after 900 s: {proc.wait()}")
    texts = [ANSI.sub("", log.read_text(errors="replace")) for _command, log, _env in jobs]
    for (command, _log, _env), code, text in zip(jobs, codes, texts):
        assert code == 0, f"{' '.join(command)} exited with {code}:\n{text[-4000:]}"
    return texts


def clean_copy(dest: Path) -> Path:
    """The files of this checkout that git tracks or would (new, not ignored), as a fresh clone
    holds them, with the working tree's content."""
    try:
        listed = subprocess.run(["git", "-C", str(REPO), "ls-files", "-co", "--exclude-standard", "-z"],
                                capture_output=True, check=True, timeout=60).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: no clean copy to build from")
    for name in filter(None, listed.decode().split("\0")):
        source = REPO / name
        if source.is_file():  # a tracked file deleted in the working tree is left out
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def new_venv(path: Path) -> Path:
    """A fresh venv; pip installs into it from outside (``pip --python``), saving ensurepip."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True, timeout=120)
    return path


def pip_install_into(venv: Path, *args: str) -> list[str]:
    """``pip install ARGS`` into ``venv``, with no bytecode compiled: compiling every dependency's
    modules was half the time of an install, and nothing tested here depends on it."""
    return [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-compile", *args]


def installed_version(venv: Path) -> str | None:
    found = list((venv / "lib").glob("python3*/site-packages/hpwidgets-*.dist-info"))
    return found[0].name.removesuffix(".dist-info").split("-")[1] if found else None


def shared_files(wheel: Path) -> set[str]:
    """The files a wheel puts in the environment's share/ and etc/ (its shared data)."""
    data = f"hpwidgets-{VERSION}.data/data/"
    with zipfile.ZipFile(wheel) as archive:
        return {name.removeprefix(data) for name in archive.namelist() if name.startswith(data)}


@pytest.fixture(scope="session")
def dists(tmp_path_factory) -> dict[str, Path]:
    """Built at once from two clean copies: ``python -m build``'s "sdist" and "wheel" (built from
    the sdist), and the "checkout wheel" of ``pip wheel``, the build step of ``pip install .``."""
    pytest.importorskip("build")
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("building from a checkout needs node and npm (bash tests/run.sh installs them)")
    base = tmp_path_factory.mktemp("dists")
    release, checkout = clean_copy(base / "release"), clean_copy(base / "checkout")
    run_together([
        ([sys.executable, "-m", "build", "--outdir", str(base / "dist"), str(release)], base / "build.log",
         environment()),
        ([sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(base / "pip"), str(checkout)],
         base / "pip.log", environment()),
    ], cwd=base)
    (sdist,), (wheel,), (checkout_wheel,) = (
        (base / "dist").glob("*.tar.gz"), (base / "dist").glob("*.whl"), (base / "pip").glob("*.whl"))
    return {"sdist": sdist, "wheel": wheel, "checkout wheel": checkout_wheel}


@pytest.fixture(scope="session")
def installed(dists, tmp_path_factory) -> dict[str, Path]:
    """{"wheel": venv, "sdist": venv}, installed at once; the sdist with no node on PATH."""
    base = tmp_path_factory.mktemp("venvs")
    venvs = {kind: new_venv(base / kind) for kind in ("wheel", "sdist")}
    run_together([
        (pip_install_into(venv, str(dists[kind])), base / f"{kind}.log",
         environment(str(venv / "bin") if kind == "sdist" else None))
        for kind, venv in venvs.items()
    ], cwd=base)
    return venvs


def section(listing: str, header: str) -> list[str]:
    """The stripped lines under ``header`` in a jupyter listing, up to the next blank line."""
    lines = listing.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == header) + 1
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return [line.strip() for line in lines[start:end]]


def test_python_m_build_makes_an_sdist_that_carries_the_built_sidebar_and_a_wheel_with_it_as_shared_data(dists):
    with tarfile.open(dists["sdist"]) as sdist:
        names = sdist.getnames()
    top = f"hpwidgets-{VERSION}"
    sidebar = {n.removeprefix(f"{top}/hpwidgets/labextension/") for n in names
               if n.startswith(f"{top}/hpwidgets/labextension/")}
    assert SIDEBAR_FILES <= sidebar and f"{top}/PKG-INFO" in names
    assert [n for n in names if "node_modules" in n] == []
    sidebar_dir = "share/jupyter/labextensions/hpwidgets/"
    assert shared_files(dists["wheel"]) == {
        *(f"{sidebar_dir}{name}" for name in sidebar | {"install.json"}),  # the sdist's build; how to uninstall
        "etc/jupyter/jupyter_server_config.d/hpwidgets.json",  # the server extension, enabled
    }
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        files = wheel.namelist()
    assert "hpwidgets/static/table.js" in files
    assert [n for n in files if n.startswith("hpwidgets/labextension")] == []  # not twice
    assert dists["wheel"].name == f"hpwidgets-{VERSION}-py3-none-any.whl"


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_the_installed_package_is_enabled_in_jupyterlab_and_jupyter_server(installed, kind, tmp_path):
    venv = installed[kind]
    # empty user folders: what is listed enabled comes from the venv itself
    env = environment(JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_DATA_DIR=str(tmp_path / "data"))
    labext, server = run_together([  # at once: each starts and imports a jupyter of its own
        ([str(venv / "bin" / "jupyter"), "labextension", "list"], tmp_path / "labext.log", env),
        ([str(venv / "bin" / "jupyter"), "server", "extension", "list"], tmp_path / "server.log", env),
    ], cwd=tmp_path)
    assert f"hpwidgets v{VERSION} enabled OK (python, hpwidgets)" in section(
        labext, str(venv / "share" / "jupyter" / "labextensions"))
    ours = section(server, f"Config dir: {venv / 'etc' / 'jupyter'}")
    assert ours[ours.index("hpwidgets enabled"):][:3] == [
        "hpwidgets enabled", "- Validating hpwidgets...", f"hpwidgets {VERSION} OK"]


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_the_installed_package_answers_hpw_version_and_imports_from_its_venv(installed, kind, tmp_path):
    venv = installed[kind]
    version = subprocess.run([str(venv / "bin" / "hpw"), "--version"], capture_output=True, text=True,
                             cwd=tmp_path, env=environment(), timeout=60)
    assert (version.returncode, version.stdout, version.stderr) == (0, f"hpwidgets {VERSION}\n", "")
    code = "import hpwidgets, importlib.metadata as m; print(hpwidgets.__file__); print(m.version('hpwidgets'))"
    imported = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True,
                              cwd=tmp_path, env=environment(), timeout=60)
    assert imported.returncode == 0, imported.stderr
    site = next((venv / "lib").glob("python3*/site-packages"))
    assert imported.stdout.splitlines() == [str(site / "hpwidgets" / "__init__.py"), VERSION]


def pip_install_without_node(tmp_path: Path, *args: str) -> tuple[int, list[str], Path]:
    """``pip install ARGS CLEAN-COPY`` into a fresh venv with no node or npm on PATH: its exit
    code, its output's stripped lines and the venv."""
    source = clean_copy(tmp_path / "checkout")
    venv = new_venv(tmp_path / "venv")
    out = subprocess.run(pip_install_into(venv, "--no-deps", *args, str(source)), capture_output=True,
                         text=True, cwd=tmp_path, env=environment(str(venv / "bin")), timeout=600)
    return out.returncode, [line.strip() for line in (out.stdout + out.stderr).splitlines()], venv


def test_pip_install_of_a_clean_checkout_without_node_stops_in_one_line_that_says_what_to_install(tmp_path):
    code, said, venv = pip_install_without_node(tmp_path)
    assert code == 1
    assert [line for line in said if line.startswith("hpwidgets:")] == [f"hpwidgets: {NO_NODE}{ELSE_A_DIST}"]
    assert not any("Traceback" in line for line in said)
    assert installed_version(venv) is None


def test_an_editable_install_without_node_goes_on_without_the_sidebar_and_says_how_to_add_it(tmp_path):
    code, said, venv = pip_install_without_node(tmp_path, "--verbose", "--editable")  # -v: the backend's output
    assert code == 0, "\n".join(said[-40:])
    assert [line for line in said if line.startswith("hpwidgets:")] == [
        f"hpwidgets: installing without the Runs sidebar: {NO_NODE}, then run scripts/build_labextension.sh"]
    assert installed_version(venv) == VERSION
    assert not (venv / "share" / "jupyter" / "labextensions" / "hpwidgets" / "package.json").exists()
    assert (venv / "etc" / "jupyter" / "jupyter_server_config.d" / "hpwidgets.json").is_file()


def test_pip_install_of_a_clean_checkout_with_node_builds_the_sidebar_into_its_wheel(dists):
    shared = shared_files(dists["checkout wheel"])
    sidebar = "share/jupyter/labextensions/hpwidgets/"
    assert {f"{sidebar}{name}" for name in SIDEBAR_FILES | {"install.json"}} <= shared
    # the same build as the released wheel's, file for file; webpack names each chunk by a hash
    # of its content, which holds module ids that depend on the folder it was built in (a
    # shared module's id moves when it collides with a path-dependent one)
    hashed = re.compile(r"\.[0-9a-f]{20}\.js$")
    assert {hashed.sub(".js", n) for n in shared} == {hashed.sub(".js", n) for n in shared_files(dists["wheel"])}


@pytest.mark.e2e
def test_the_runs_sidebar_of_the_installed_wheel_lists_and_opens_a_batch_in_jupyterlab(installed, chromium,
                                                                                          tmp_path):
    venv = installed["wheel"]
    with running_lab(tmp_path, str(venv / "bin" / "python"), pythonpath=None) as lab:
        out = subprocess.run([str(venv / "bin" / "hpw"), "run", "train.py", "x=[-1,1]", "-y"], capture_output=True,
                             text=True, cwd=lab.root, env=environment(HPWIDGETS_HOME=str(lab.home)), timeout=120)
        assert out.returncode == 0, out.stderr
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        try:
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))
            page.goto(f"{lab.url}/lab?token={TOKEN}&reset")
            page.locator(".jp-SideBar [data-id='hpwidgets-runs']").click(timeout=60_000)
            item = page.locator(".hpw-runs-item", has_text="train.py")
            item.wait_for(timeout=30_000)
            assert item.locator(".hpw-runs-state").text_content() == "finished"
            assert (item.locator(".hpw-runs-counts").text_content() or "").startswith("2 of 2 done · best loss ")
            item.locator(".hpw-runs-open").click()  # drawn by the installed server extension
            view = page.locator(".hpw-view")
            view.locator("img.hpw-plot").wait_for(timeout=30_000)
            assert view.locator(".hpw-rows tbody tr").count() == 2
            assert errors == []
        finally:
            context.close()

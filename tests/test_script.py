"""Finding a script's flags without running it, and running it with new values."""

import marshal
import os
import subprocess

import numpy as np
import pytest

from hpwidgets.core.errors import ScriptError, UnknownFlagError
from hpwidgets.core.run.scripts import SPEC_FILE, command, inspect_script


def test_globals_flags_and_types(write_script):
    path = write_script('x = 0.1\nname = "adam"\nuse_bn = True\nepochs = 3\nneg = -2\n_private = 1\n'
                        'derived = x * 2\nimport os\n')
    info = inspect_script(path)
    assert info.style == "globals"
    assert {n: (f.default, f.type) for n, f in info.flags.items()} == {
        "x": (0.1, float), "name": ("adam", str), "use_bn": (True, bool), "epochs": (3, int), "neg": (-2, int),
    }


def test_argparse_flags(write_script):
    path = write_script(
        "import argparse\np = argparse.ArgumentParser()\n"
        "p.add_argument('--learning-rate', type=float, default=0.1)\n"
        "p.add_argument('--epochs', type=int)\n"
        "p.add_argument('--bn', action='store_true')\n"
        "p.add_argument('--opt', default='adam')\n"
        "a = p.parse_args()\nprint('loss:', a.learning_rate * a.epochs, a.bn, a.opt)\nx = 5\n"
    )
    info = inspect_script(path)
    assert info.style == "argparse"
    assert {n: (f.default, f.type, f.option) for n, f in info.flags.items()} == {
        "learning_rate": (0.1, float, "--learning-rate"),
        "epochs": (None, int, "--epochs"),
        "bn": (None, bool, "--bn"),
        "opt": ("adam", str, "--opt"),
    }
    out = _run(info, {"learning_rate": 0.5, "epochs": 4, "bn": True, "opt": "sgd"}, path)
    assert out == "loss: 2.0 True sgd\n"
    # a flag without a default that the user did not set is left to the script's parser
    argv = command(info, {"learning_rate": 0.5, "epochs": None, "bn": None, "opt": "adam"}, path, _spec(path))
    assert marshal.loads(open(argv[-1], "rb").read()) == {"source": path, "argv": ["--learning-rate", "0.5", "--opt", "adam"]}


def _spec(copy):
    return os.path.join(os.path.dirname(copy), SPEC_FILE)


def _run(info, flags, copy):
    argv = command(info, flags, copy, _spec(copy))
    return subprocess.run(argv, capture_output=True, text=True, check=True,
                          cwd=os.path.dirname(copy)).stdout


def test_globals_replaced_in_unmodified_file(write_script, tmp_path):
    path = write_script('import sys, os\nx = 0.1\nname: str = "a"\nprint("x:", x, name, __name__, '
                        'os.path.basename(__file__), sys.argv[0] == __file__, os.getcwd())\n')
    info = inspect_script(path)
    assert _run(info, {"x": -2.5, "name": "b c"}, path) == f"x: -2.5 b c __main__ script.py True {tmp_path}\n"
    assert open(path).read().count("x = 0.1") == 1  # the file itself is never changed


def test_script_folder_is_importable(write_script, tmp_path):
    (tmp_path / "helper.py").write_text("VALUE = 42\n")
    path = write_script("import helper\nx = 1\nprint('loss:', helper.VALUE + x)\n")
    assert _run(inspect_script(path), {"x": 2}, path) == "loss: 44\n"


def test_pickling_classes_of_main_works(write_script):
    path = write_script("import pickle\nclass A: pass\nx = 1\nprint(type(pickle.loads(pickle.dumps(A()))).__name__)\n")
    assert _run(inspect_script(path), {"x": 1}, path) == "A\n"


def test_traceback_names_the_users_file(write_script):
    path = write_script("x = 1\n\nraise ValueError('boom')\n")
    argv = command(inspect_script(path), {"x": 1}, path, _spec(path))
    proc = subprocess.run(argv, capture_output=True, text=True)
    assert proc.returncode == 1
    assert f'File "{path}", line 3, in <module>' in proc.stderr
    assert proc.stderr.strip().endswith("ValueError: boom")


@pytest.mark.parametrize("content,message", [
    (None, "Script not found: '{p}' (accepted: a path to a Python script such as train.py)"),
    ("x = = 1\n", "Script '{p}' is not valid Python: invalid syntax at line 1"),
    (b"\x89PNG\r\n\x1a\n\xff", "Script '{p}' is not a Python text file: byte 0 is not UTF-8"),
])
def test_bad_scripts(tmp_path, content, message):
    path = tmp_path / "bad.py"
    if isinstance(content, str):
        path.write_text(content)
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(ScriptError) as err:
        inspect_script(str(path))
    assert str(err.value).startswith(message.format(p=path))


def test_a_file_that_is_not_python(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n")  # parses as Python, but is not a script
    with pytest.raises(ScriptError) as err:
        inspect_script(str(data))
    assert str(err.value) == (f"Script '{data}' is not a Python file: its name does not end in .py "
                              "(accepted: a path to a Python script such as train.py)")


def test_directory_is_not_a_script(tmp_path):
    with pytest.raises(ScriptError, match="is a directory"):
        inspect_script(str(tmp_path))


def test_unknown_flag_lists_known(write_script):
    info = inspect_script(write_script("x = 1\nnoise = 0.1\n"))
    with pytest.raises(UnknownFlagError) as err:
        info.flag("y")
    assert str(err.value) == "Unknown flag 'y' for script.py (its flags: noise, x)"


def test_spec_is_a_private_file(write_script, tmp_path):
    info = inspect_script(write_script("x = 1\n"))
    spec = tmp_path / SPEC_FILE
    spec.write_text("{}")
    spec.chmod(0o644)
    argv = command(info, {"x": 2}, "/tmp/copy.py", str(spec))
    assert argv[-2:] == [info.path, str(spec)]
    assert marshal.loads(spec.read_bytes()) == {"source": "/tmp/copy.py", "globals": {"x": 2}}
    assert spec.stat().st_mode & 0o777 == 0o600
    # numpy's scalars (an optimizer's float64, int64) are written as the numbers they are
    command(info, {"x": np.float64(0.5), "y": np.int64(3), "z": np.str_("a")}, "/tmp/copy.py", str(spec))
    written = marshal.loads(spec.read_bytes())["globals"]
    assert [(type(v), v) for v in written.values()] == [(float, 0.5), (int, 3), (str, "a")]

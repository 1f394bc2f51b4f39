"""Values that crashed or slipped through are refused in one line naming the option and its
accepted form, through the real `hpw` command line; nothing is written."""

import os

import pytest

from tests.helpers import hpw

SCRIPT = "x = 1.0\nprint('loss:', x)\n"
PICTURES = (".avif, .eps, .gif, .jpeg, .jpg, .pdf, .pgf, .png, .ps, .raw, .rgba, .svg, .svgz, .tif, "
            ".tiff, .webp")


@pytest.mark.parametrize("args,line", [
    (["x=logspace[0:400:3]"], "Invalid value for flag 'x': 'logspace[0:400:3]': 10 ** 400.0 is too large for a "
                              "float (accepted: logspace values of at most 1.798e+308)"),
    (["x=1e309"], "Invalid value for flag 'x': '1e309': 1e309 is too large for a float (accepted: a finite "
                  "number (at most 1.798e+308 in size))"),
    (["x=[1e309]"], "Invalid value for flag 'x': '[1e309]': 1e309 is too large for a float (accepted: a finite "
                    "number (at most 1.798e+308 in size))"),
    (["x=[0:1e309]"], "Invalid value for flag 'x': '[0:1e309]': 1e309 is too large for a float (accepted: a "
                      "finite number (at most 1.798e+308 in size))"),
    (["x=1", "x=2"], "Invalid value for flag: 'x=2': x is already given as x=1 (accepted: each flag once; "
                     "several values as a list, such as x=[1,2])"),
    (["--minimize", ""], "Invalid value for --minimize: '' (accepted: the name of a scalar the trials print, such "
                         "as loss or acc)"),
    (["--maximize", " "], "Invalid value for --maximize: ' ' (accepted: the name of a scalar the trials print, "
                          "such as loss or acc)"),
    (["x=logspace[0:1:3:0]"], "Invalid value for flag 'x': 'logspace[0:1:3:0]': the base 0 gives no scale "
                              "(accepted: logspace[start:end:count:base] with base > 0 and not 1)"),
    (["x=logspace[0:1:3:-2]"], "Invalid value for flag 'x': 'logspace[0:1:3:-2]': the base -2 gives no scale "
                               "(accepted: logspace[start:end:count:base] with base > 0 and not 1)"),
])
def test_hpw_run_refuses_in_one_line_and_runs_nothing(home, write_script, args, line):
    out = hpw("run", write_script(SCRIPT), *args, "-y")
    assert (out.returncode, out.stdout, out.stderr) == (1, "", f"hpw run: error: {line}\n")
    assert not (home / "runs").exists() or os.listdir(home / "runs") == []


@pytest.mark.parametrize("name,why", [
    ("/nonexistent/x.png", "folder /nonexistent does not exist"),
    ("x.txt", "no picture format is named 'txt'"),
    ("x", "it has no extension naming a format"),
])
def test_hpw_plot_to_a_bad_path_is_one_line_and_writes_nothing(home, write_script, tmp_path, name, why):
    assert hpw("run", write_script(SCRIPT), "x=[1,2]", "-y").returncode == 0
    out = hpw("plot", "-o", name, cwd=tmp_path)
    assert (out.returncode, out.stdout, out.stderr) == (
        1, "", f"hpw plot: error: Invalid value for --output: '{name}': {why} (accepted: a file path in an "
               f"existing folder, ending in {PICTURES})\n")
    assert sorted(os.listdir(tmp_path)) == sorted(p for p in os.listdir(tmp_path) if not p.startswith("x"))

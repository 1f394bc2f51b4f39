"""`hpw run SCRIPT --help-flags`: the script's flags, types and defaults; nothing runs."""

import os

from tests.support.cli import hpw_here


def test_help_flags_of_globals_and_argparse(home, train_py, write_script):
    proc = hpw_here("run", train_py, "--help-flags")
    assert (proc.returncode, proc.stdout) == (0, "Flags of train.py (module-level assignments):\n"
                                                 "  noise  float  (default is 0.1)\n  x      float  (default is 0.1)\n")
    script = write_script(
        "import argparse\np = argparse.ArgumentParser()\np.add_argument('--learning-rate', type=float, default=0.01)\n"
        "p.add_argument('--epochs', type=int, default=3)\np.add_argument('--name', default='adam')\n"
        "p.add_argument('--bn', action='store_true')\nargs = p.parse_args()\n", name="argp.py")
    proc = hpw_here("run", script, "--help-op")
    assert proc.stdout.splitlines() == [
        "Flags of argp.py (argparse options):",
        "  bn             bool   (default is no)  --bn",
        "  epochs         int    (default is 3)  --epochs",
        "  learning_rate  float  (default is 0.01)  --learning-rate",
        "  name           str    (default is adam)  --name",
    ]
    assert not (home / "runs").exists() or os.listdir(home / "runs") == []


def test_help_flags_errors(home, write_script):
    none = hpw_here("run", "--help-flags")
    assert (none.returncode, none.stderr) == (2, "hpw run: error: --help-flags needs a script, such as hpw run "
                                                 "train.py --help-flags\n")
    missing = hpw_here("run", "nope.py", "--help-flags")
    assert missing.returncode == 1 and missing.stderr.startswith("hpw run: error: Script not found: 'nope.py'")
    flagless = write_script("print('hi')\n", name="plain.py")
    assert hpw_here("run", flagless, "--help-flags").stdout == (
        "plain.py has no flags (module-level assignments of literals, or argparse options)\n")

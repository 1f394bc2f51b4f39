"""The Runs sidebar's server extension through a real jupyter_server under a JupyterHub-like
base URL, with a real detached batch: listing, the pushed stream, a batch's view and CSV, Stop,
and the server's own authentication (token, XSRF)."""

from __future__ import annotations

import http.cookiejar
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request

import pytest

from hpwidgets.core.processes import detach, locks
from hpwidgets.core.records import Status
from hpwidgets.core.store.runstore import Store

from .helpers import group_alive, hpw
from .support.waiting import wait_for

TOKEN = "hpw-labserver-token"
BASE = "/user/someone/"
SCRIPT = textwrap.dedent("""
    import time
    x = 0
    note = "n"
    time.sleep(0.2 if x < 3 else 60)
    print(f"loss: {x}")
""")
XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture
def server(tmp_path, home):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "HPWIDGETS_HOME": str(home), "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    command = [sys.executable, "-m", "jupyter_server", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={TOKEN}", f"--ServerApp.base_url={BASE}",
               f"--ServerApp.root_dir={tmp_path}",
               # ours alone: the others (JupyterLab, Notebook 7, LSP, terminals) took a third of the start
               "--ServerApp.jpserver_extensions={'hpwidgets': True, 'jupyterlab': False, 'notebook': False, "
               "'notebook_shim': False, 'jupyter_lsp': False, 'jupyter_server_terminals': False}"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = open(tmp_path / "server.log", "wb")
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}{BASE}hpwidgets"
    wait_for(lambda: _status(f"{url}/batches", token=TOKEN) == 200 or proc.poll() is not None,
             "the server answering (or exiting)", 60)
    yield url
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(15)
    log.close()


def _request(url: str, method: str = "GET", token: str | None = None, headers: dict | None = None,
             opener: urllib.request.OpenerDirector | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None,
                                     headers={**({"Authorization": f"token {token}"} if token else {}),
                                              **(headers or {})})
    try:
        with (opener or urllib.request.build_opener()).open(request, timeout=90) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


def _status(url: str, **kwargs) -> int:
    return _request(url, **kwargs)[0]


def _json(url: str, method: str = "GET") -> tuple[int, dict]:
    status, body = _request(url, method, token=TOKEN)
    return status, json.loads(body)


def test_the_api_lists_streams_shows_and_stops_a_detached_batch(server, write_script):
    script = write_script(SCRIPT, "sleepy.py")
    assert _json(f"{server}/batches") == (200, {"batches": []})
    out = hpw("run", script, "x=[0,1,3]", f"note={XSS}", "-y", "--detach")
    assert out.returncode == 0, out.stderr
    store = Store()
    batch_id = store.resolve_batch(out.stdout.split()[1])

    # the stream pushes the listing at once, and again when a trial ends
    request = urllib.request.Request(f"{server}/events", headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(request, timeout=30) as stream:
        assert stream.headers["Content-Type"] == "text/event-stream; charset=utf-8"
        seen = []
        while not seen or not seen[-1]["progress"].startswith("2 of 3 done"):
            line = stream.readline().decode()
            if line.startswith("data: "):
                seen.append(json.loads(line[6:])["batches"][0])
    assert seen[-1]["id"] == batch_id and seen[-1]["running"] and seen[-1]["stoppable"]
    assert seen[-1]["flags"] == f"note={XSS} x=[0,1,3]"  # raw text: the browser places it as text
    assert len({row["progress"] for row in seen}) >= 2  # pushed as it changed

    status, view = _json(f"{server}/batches/{batch_id[:8]}")
    assert status == 200 and view["id"] == batch_id and view["running"] is True
    assert view["table"]["columns"][:4] == ["run", "status", "loss", "note"]
    assert [row[3] for row in view["table"]["rows"]][:2] == [XSS, XSS]
    assert view["png"]
    status, body = _request(f"{server}/batches/{batch_id}/csv", token=TOKEN)
    lines = body.decode().splitlines()
    assert status == 200 and lines[0].startswith("run,") and len(lines) == 1 + len(store.runs(batch=batch_id))

    # the server's own authentication: no token, or a cookie without the XSRF header, is refused
    assert _status(f"{server}/batches") == 403
    assert _status(f"{server}/batches/{batch_id}/stop", method="POST") == 403
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    root = server.removesuffix("hpwidgets")
    assert _status(f"{root}lab?token={TOKEN}", opener=browser) in (200, 404)  # logs in: sets the cookies
    assert _status(f"{server}/batches", opener=browser) == 200  # the cookie alone reads
    assert _status(f"{server}/batches/{batch_id}/stop", method="POST", opener=browser) == 403  # but cannot POST
    assert locks.is_running(store.batches_dir, batch_id)

    # unknown ids and a Stop that cannot apply: one line, nothing changed
    assert _json(f"{server}/batches/0123abcd") == (404, {"message": (
        "Invalid value for batch: '0123abcd' (accepted: a batch id or its first characters (no batch has "
        "that id))")})
    assert _json(f"{server}/batches/0123abcd/stop", "POST")[0] == 404

    wait_for(lambda: any(r.flags["x"] == 3 and r.status is Status.RUNNING for r in store.runs(batch=batch_id)),
             "trial x=3 running")
    status, answer = _json(f"{server}/batches/{batch_id}/stop", "POST")
    assert (status, answer) == (200, {"message": f"Stopped batch {batch_id[:8]}: 2 of 3 done · 1 terminated"})
    assert sorted((r.flags["x"], r.status) for r in store.runs(batch=batch_id)) == [
        (0, Status.COMPLETED), (1, Status.COMPLETED), (3, Status.TERMINATED)]
    status, answer = _json(f"{server}/batches/{batch_id}/stop", "POST")
    assert (status, answer) == (409, {"message": f"batch {batch_id[:8]} is not running (it ended: 2 of 3 done "
                                                 "· 1 terminated); nothing changed"})
    status, listing = _json(f"{server}/batches")
    assert [(b["id"], b["running"], b["state"], b["progress"].split(" · best ")[0]) for b in listing["batches"]] == [
        (batch_id, False, "unfinished", "2 of 3 done · 1 terminated")]  # --resume runs the terminated one


def test_a_batch_running_in_another_process_is_listed_shown_and_stopped_by_its_stop_request(server, write_script):
    script = write_script(SCRIPT, "sleepy.py")
    run = subprocess.Popen([sys.executable, "-m", "hpwidgets.cli", "run", script, "x=[0,3]", "-y"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        store = Store()
        wait_for(lambda: len(store.runs()) == 2, "two runs in the store")
        batch_id = store.runs()[0].batch
        status, listing = _json(f"{server}/batches")
        row = listing["batches"][0]
        assert (row["running"], row["stoppable"], row["where"], row["stop_note"], row["state"]) == (
            True, True, "kernel", "", "running")
        assert row["progress"].startswith("1 of 2 done · 1 running · best loss 0 (")
        status, view = _json(f"{server}/batches/{batch_id}")  # its stored runs so far
        assert status == 200 and view["running"] and [r[1] for r in view["table"]["rows"]] == ["completed", "running"]
        status, answer = _json(f"{server}/batches/{batch_id}/stop", "POST")
        assert (status, answer) == (200, {"message": f"Stopped batch {batch_id[:8]}: 1 of 2 done · 1 terminated"})
        assert run.wait(30) == 0  # `hpw run` ended: a stopped batch is not an error
        assert sorted((r.flags["x"], r.status) for r in store.runs(batch=batch_id)) == [
            (0, Status.COMPLETED), (3, Status.TERMINATED)]
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait(30)


def _orphaned_trial(write_script) -> tuple[str, int]:
    """A detached batch whose supervisor got SIGKILL while its second trial runs: the batch's id
    and the trial's process group, alive (its own session: the kill did not reach it)."""
    script = write_script(SCRIPT, "sleepy.py")
    out = hpw("run", script, "x=[0,3]", "-y", "--detach")
    assert out.returncode == 0, out.stderr
    store = Store()
    batch_id = store.resolve_batch(out.stdout.split()[1])
    wait_for(lambda: any(r.flags["x"] == 3 and r.status is Status.RUNNING for r in store.runs(batch=batch_id)),
             "the trial x=3 running")
    trial = next(r for r in store.runs(batch=batch_id) if r.flags["x"] == 3)
    pgid_file = os.path.join(store.run_dir(trial.id), "trial.pid")
    wait_for(lambda: os.path.exists(pgid_file), "the trial writing its pid")
    pgid = int(open(pgid_file).read().split(":")[0])
    os.kill(detach.supervisor_pid(store, batch_id), signal.SIGKILL)
    wait_for(lambda: not locks.is_running(store.batches_dir, batch_id), "the killed supervisor's lock dropped", 10)
    assert group_alive(pgid)
    return batch_id, pgid


def test_after_a_supervisors_sigkill_stop_ends_the_trial_it_left_running(server, write_script):
    batch_id, pgid = _orphaned_trial(write_script)

    status, answer = _json(f"{server}/batches/{batch_id}/stop", "POST")
    assert (status, answer) == (200, {"message": f"Stopped batch {batch_id[:8]}: 1 of 2 done · 1 terminated (its "
                                                 "process had ended; the trials it left running are ended now)"})
    wait_for(lambda: not group_alive(pgid), "the orphaned trial ending", 10)
    status, listing = _json(f"{server}/batches")
    assert [(b["running"], b["progress"].split(" · best ")[0]) for b in listing["batches"]] == [
        (False, "1 of 2 done · 1 terminated")]


def test_after_a_supervisors_sigkill_the_listing_ends_the_trial_it_left_running(server, write_script):
    batch_id, pgid = _orphaned_trial(write_script)

    status, listing = _json(f"{server}/batches")
    assert [(b["running"], b["progress"].split(" · best ")[0]) for b in listing["batches"]] == [
        (False, "1 of 2 done · 1 terminated")]
    wait_for(lambda: not group_alive(pgid), "the orphaned trial ending", 10)
    status, view = _json(f"{server}/batches/{batch_id}")
    assert [r[1] for r in view["table"]["rows"]] == ["completed", "terminated"]


def test_a_record_out_of_range_is_skipped_by_the_listing_a_batchs_view_and_its_csv(server, write_script):
    out = hpw("run", write_script("x = 0\nprint('loss:', x)\n"), "x=[1,2]", "-y")
    assert out.returncode == 0, out.stderr
    store = Store()
    batch_id = store.runs()[0].batch
    good = sorted(r.short_id for r in store.runs())
    bad = os.path.join(store.run_dir("ff" * 16), "run.json")
    os.makedirs(os.path.dirname(bad))
    with open(bad, "w") as fh:
        fh.write('{"id": "' + "ff" * 16 + f'", "batch": "{batch_id}", "operation": "script.py", "flags": {{}}, '
                 '"status": "completed", "started": 1e300, "stopped": Infinity}')
    status, listing = _json(f"{server}/batches")
    assert status == 200 and [b["progress"].split(" · best ")[0] for b in listing["batches"]] == ["2 of 2 done"]
    status, view = _json(f"{server}/batches/{batch_id}")
    assert status == 200 and sorted(row[0] for row in view["table"]["rows"]) == good
    status, body = _request(f"{server}/batches/{batch_id}/csv", token=TOKEN)
    assert status == 200 and sorted(line[:8] for line in body.decode().splitlines()) == [*good, "run,oper"]

"""exit_after_synth ends the process as Python's own shutdown would for everything the app relies on (threads that
are not daemons finish, atexit handlers run, buffered output is written, the exit status is the one given), and
skips only the teardown of modules and objects."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent(
    """
    import atexit, sys, threading, time
    from pathlib import Path
    from eks_ai_data.app_exit import exit_after_synth

    out = Path(sys.argv[1])

    class Torn:
        def __del__(self):
            (out / "teardown").write_text("destroyed")

    kept = Torn()  # a module global: destroyed only by the interpreter's teardown
    atexit.register(lambda: (out / "first-registered").write_text("ran"))
    atexit.register(lambda: (out / "atexit-order").write_text(
        "after" if (out / "first-registered").exists() else "before"))

    def late():
        time.sleep(0.3)
        (out / "thread").write_text("finished")

    threading.Thread(target=late).start()
    sys.stdout.write("buffered, no newline")
    sys.stderr.write("to stderr")
    exit_after_synth(int(sys.argv[2]))
    (out / "unreachable").write_text("ran")
    """
)


def _run(tmp_path: Path, code: int) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "app.py"
    script.write_text(SCRIPT)
    env = {"PYTHONPATH": str(ROOT / "constructs"), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, str(script), str(tmp_path), str(code)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_threads_finish_atexit_handlers_run_and_output_is_written(tmp_path: Path) -> None:
    done = _run(tmp_path, 0)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "buffered, no newline"
    assert done.stderr == "to stderr"
    assert (tmp_path / "thread").read_text() == "finished"
    assert (tmp_path / "first-registered").read_text() == "ran"
    # last registered, first run: the order Python's own shutdown keeps
    assert (tmp_path / "atexit-order").read_text() == "before"
    assert not (tmp_path / "unreachable").exists()


def test_the_teardown_is_skipped_and_the_exit_status_is_the_one_given(tmp_path: Path) -> None:
    done = _run(tmp_path, 3)
    assert done.returncode == 3
    assert not (tmp_path / "teardown").exists()  # the interpreter's teardown would have destroyed `kept`

"""End a CDK app's process once its cloud assembly is written, without tearing the interpreter down.

When a Python CDK app's script ends, the interpreter's finalization destroys every module and object it holds:
about a hundred generated ``aws_cdk`` modules with thousands of classes, and a jsii proxy for each construct of
the tree. Nothing reads them again: ``app.synth()`` has written the cloud assembly, and the CDK CLI reads it
once the process has exited. For the reference app that teardown takes about 0.8 s of each ``cdk synth``
(measured: the process ends 0.8 s after its last ``atexit`` handler has run, and 0.05 s after it with
:func:`exit_after_synth`).

:func:`exit_after_synth` does what the interpreter's own shutdown does that matters to the app, in the same order
(CPython ``Py_FinalizeEx``): it waits for the threads that are not daemons, runs the ``atexit`` handlers (jsii's,
which stops the jsii kernel and waits for it; :mod:`eks_ai_data.concurrent_validation`'s, which stops the
validation engine), flushes standard output and standard error, and then ends the process with ``os._exit``.

Call it as the app script's last statement, after ``app.synth()`` has returned. It ends the process, not only the
script: never call it in code that runs inside another program's process (a test that imports the script or runs
it with ``runpy`` would end with it).
If ``app.synth()`` raises, the statement is never reached and Python exits as usual, with the traceback and the
exit status it always has.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import NoReturn


def exit_after_synth(code: int = 0) -> NoReturn:
    """Wait for non-daemon threads, run the ``atexit`` handlers, flush stdout and stderr, and end the process with
    exit status ``code`` without the interpreter's teardown."""
    current = threading.current_thread()
    for thread in threading.enumerate():
        if thread is not current and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
    os._exit(code)

"""A folder served over http on 127.0.0.1, for the remote-store tests: nothing beyond this machine."""

import contextlib
import socket
import subprocess
import sys
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serving(folder, log=None):
    """``python -m http.server`` serving ``folder`` on a free port of 127.0.0.1 for the block.

    Yields the server's process with its ``url`` set (a test may kill it early); with
    ``log``, every request is one line of that file (the server's stderr).
    """
    port = free_port()
    sink = open(log, "w") if log is not None else subprocess.DEVNULL  # noqa: SIM115  (closed below)
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                               "--directory", str(folder)], stdout=subprocess.DEVNULL, stderr=sink)  # fmt: skip
    server.url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # up to a minute on a busy machine
            try:
                urllib.request.urlopen(server.url + "/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield server
    finally:
        server.kill()
        server.wait()
        if log is not None:
            sink.close()

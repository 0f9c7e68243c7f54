"""A Dask cluster on this machine, for the tests and benchmarks: a scheduler and worker processes on 127.0.0.1.

``course_tools.grading.cluster`` grades on any running cluster (``--cluster ADDRESS``); this rig starts one with
Dask's own commands, as an operator would, and stops it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LocalDaskCluster:
    """A scheduler and worker processes on 127.0.0.1, started with Dask's own commands (tests and benchmarks)."""

    def __init__(self, folder: str | Path, workers: int = 2):
        self.folder = Path(folder)
        port = free_port()
        self.address = f"tcp://127.0.0.1:{port}"
        bin_dir = Path(sys.executable).parent
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}

        def start(argv, log):
            return subprocess.Popen(argv, cwd=self.folder, env=env, start_new_session=True,
                                    stdout=subprocess.DEVNULL, stderr=open(self.folder / log, "wb"))

        self.processes = [start([str(bin_dir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                 "--no-dashboard"], "scheduler.log")]
        for i in range(workers):
            self.processes.append(start([str(bin_dir / "dask"), "worker", self.address, "--nthreads", "1",
                                         "--nworkers", "1", "--no-dashboard", "--name", f"worker-{i}"],
                                        f"worker-{i}.log"))
        self.wait_for_workers(workers)

    def client(self):
        from distributed import Client
        return Client(self.address, timeout="30s")

    def wait_for_workers(self, count: int, timeout: float = 120) -> None:
        with self.client() as client:
            client.wait_for_workers(count, timeout=timeout)

    def stop(self) -> None:
        for process in self.processes:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()

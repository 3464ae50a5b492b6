"""Sweeps on a real single-node SLURM cluster (Debian's slurmctld, slurmd and munge), started by the test.

The cluster is private: tools/slurm/start_slurm.sh puts its config, state, logs and sockets in a
temporary directory and listens on free ports; the fixture stops it afterwards. Without accounting
(no slurmdbd) ``sacct`` answers nothing, so submitit warns "Bypassing sacct error" and learns that
a job ended from its result file; a job that SLURM kills before submitit writes one would wait
forever, hence the alarm around the sweep.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from slt.paper.sweeps import run_sweep, sweep_configs, sweep_dir
from slt.records import load

TOOLS = Path(__file__).resolve().parent.parent / "tools" / "slurm"
SWEEP_TIMEOUT_S = 600

_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])  # the daemons live in sbin
_missing = [tool for tool in ("sbatch", "slurmctld", "slurmd", "munged") if shutil.which(tool, path=_PATH) is None]
pytestmark = [
    pytest.mark.skipif(
        bool(_missing),
        reason=f"SLURM is not installed ({', '.join(_missing)} missing): apt-get install slurmctld slurmd "
        "slurm-client munge",
    ),
    pytest.mark.skipif(os.geteuid() != 0, reason="a private SLURM cluster needs root (slurmd launches the jobs)"),
    pytest.mark.slow,  # starts and stops a cluster; the sweep trains on CIFAR-10
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _slurm(*argv: str) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=30).stdout


@pytest.fixture(scope="module")
def slurm_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A running single-node cluster; SLURM_CONF points at it while this module runs."""
    root = tmp_path_factory.mktemp("slurm")
    env = os.environ | {"SLURMCTLD_PORT": str(_free_port()), "SLURMD_PORT": str(_free_port())}
    started = subprocess.run(
        ["bash", str(TOOLS / "start_slurm.sh"), str(root)], env=env, capture_output=True, text=True, timeout=120
    )
    try:
        if started.returncode != 0:
            pytest.fail(f"tools/slurm/start_slurm.sh failed:\n{started.stderr}")
        conf = started.stdout.strip().splitlines()[-1]
        previous = os.environ.get("SLURM_CONF")
        os.environ["SLURM_CONF"] = conf
        try:
            yield Path(conf)
        finally:
            if previous is None:
                del os.environ["SLURM_CONF"]
            else:
                os.environ["SLURM_CONF"] = previous
    finally:
        subprocess.run(["bash", str(TOOLS / "stop_slurm.sh"), str(root)], capture_output=True, timeout=120)


def _run_with_alarm(seconds: int, logs: Path, **kwargs) -> list[Path]:
    """run_sweep, failing with the queue and the daemons' logs if it has not returned in time."""

    def expire(signum, frame):
        queue = subprocess.run(["squeue"], capture_output=True, text=True).stdout
        tails = {p.name: p.read_text().splitlines()[-10:] for p in sorted(logs.glob("*.log"))}
        raise TimeoutError(f"the sweep did not finish in {seconds} s; squeue:\n{queue}\nlogs: {tails}")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        return run_sweep(**kwargs)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _jobs_when_ended(job_id: str, seconds: float = 60) -> list[dict[str, str]]:
    """A job (an array's tasks) as scontrol shows it, once none is still pending, running or completing
    (submitit reports a job done when its result file appears, a moment before the job ends)."""
    deadline = time.monotonic() + seconds
    while True:
        lines = _slurm("scontrol", "show", "job", "--oneliner", job_id).splitlines()
        jobs = [dict(field.split("=", 1) for field in line.split() if "=" in field) for line in lines]
        if all(job["JobState"] not in ("PENDING", "RUNNING", "COMPLETING") for job in jobs):
            return jobs
        if time.monotonic() > deadline:
            pytest.fail(f"job {job_id} has not ended in {seconds} s: {[job['JobState'] for job in jobs]}")
        time.sleep(0.5)


def test_the_cluster_runs_a_batch_job(slurm_cluster, tmp_path):
    assert _slurm("sinfo", "-h", "-o", "%P %t") == "debug* idle\n"
    out = tmp_path / "hello.out"
    job_id = _slurm("sbatch", "--parsable", f"--output={out}", "--wrap", "echo $SLURM_JOB_PARTITION").strip()
    (job,) = _jobs_when_ended(job_id)
    assert (job["JobState"], job["ExitCode"]) == ("COMPLETED", "0:0")
    assert out.read_text() == "debug\n"


def test_a_quick_sweep_runs_as_a_slurm_array(cifar10_dir, slurm_cluster, tmp_path):
    # Run again, a finished sweep submits nothing whatever the executor: test_pipeline's quick fig5 sweep.
    slurm = {"slurm_partition": "debug", "timeout_min": 20, "cpus_per_task": 1, "mem_gb": 1}
    kwargs = {"name": "fig7", "scale": "quick", "out": tmp_path, "data_dir": cifar10_dir, "executor": "slurm"}
    records = _run_with_alarm(SWEEP_TIMEOUT_S, slurm_cluster.parent / "log", **kwargs, max_parallel=2, slurm=slurm)

    configs = sweep_configs("fig7", "quick")
    assert len(records) == len(configs) == 4 and all(p.exists() for p in records)
    df = load(sweep_dir(tmp_path, "fig7", "quick"))
    assert sorted(df["run_id"]) == sorted(c.run_id for c in configs)

    # The runs were SLURM's: one array of four tasks, at most two at once, with the requested
    # resources, run by the venv's python; all complete (finished jobs stay in slurmctld for 600 s).
    submitit_dir = sweep_dir(tmp_path, "fig7", "quick") / "submitit"
    (script,) = submitit_dir.glob("*_submission.sh")
    assert f"{sys.executable} -u -m submitit.core._submit" in script.read_text()
    array_id = script.name.split("_")[0]
    jobs = _jobs_when_ended(array_id)
    assert sorted(int(job["ArrayTaskId"]) for job in jobs) == [0, 1, 2, 3]
    for job in jobs:
        assert (job["JobState"], job["ExitCode"], job["Partition"]) == ("COMPLETED", "0:0", "debug")
        assert (job["ArrayTaskThrottle"], job["NumCPUs"], job["MinMemoryNode"]) == ("2", "1", "1G")
        assert job["TimeLimit"] == "00:20:00"

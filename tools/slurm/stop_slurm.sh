#!/usr/bin/env bash
# Stop the cluster that tools/slurm/start_slurm.sh started in DIR: cancel its jobs, then end
# slurmd, slurmctld and munged by the ids in their pid files (nothing else is touched).
# Usage: tools/slurm/stop_slurm.sh DIR   (idempotent; DIR itself is kept)
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
dir=$1
if [ -f "$dir/slurm.conf" ] && command -v scancel >/dev/null; then
  export SLURM_CONF=$dir/slurm.conf
  if timeout 10 scancel --quiet --user="$(id -un)" 2>/dev/null; then
    # Let slurmd end the jobs' processes before it goes itself.
    for _ in $(seq 60); do
      [ -z "$(timeout 10 squeue -h -o %i 2>/dev/null)" ] && break
      sleep 0.5
    done
  fi
fi
for pidfile in "$dir/run/slurmd.pid" "$dir/run/slurmctld.pid" "$dir/munge/munged.pid"; do
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$pidfile"
done
echo "slurm in $dir stopped"

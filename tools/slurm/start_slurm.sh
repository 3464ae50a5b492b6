#!/usr/bin/env bash
# Start a private single-node SLURM cluster (munged, slurmctld, slurmd) whose config, state, logs
# and sockets all live in DIR, and print the path of its slurm.conf (export it as SLURM_CONF).
# Usage: tools/slurm/start_slurm.sh DIR   (as root; idempotent: a running cluster in DIR is reused)
# Needs Debian's slurmctld, slurmd, slurm-client and munge (installs nothing). Ports come from
# $SLURMCTLD_PORT and $SLURMD_PORT (default 16817, 16818). Stop it with tools/slurm/stop_slurm.sh DIR.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "$0: must run as root (slurmd launches the jobs)" >&2; exit 1; }
export PATH=$PATH:/usr/sbin:/sbin
for tool in munged slurmctld slurmd sinfo; do
  command -v "$tool" >/dev/null || { echo "$0: $tool is not installed (apt-get install slurmctld slurmd slurm-client munge)" >&2; exit 1; }
done
mkdir -p "$1"
dir=$(cd "$1" && pwd)
conf=$dir/slurm.conf
export SLURM_CONF=$conf

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

if alive "$dir/munge/munged.pid" && alive "$dir/run/slurmctld.pid" && alive "$dir/run/slurmd.pid"; then
  case "$(sinfo -h -o %t 2>/dev/null)" in
    idle | mix | alloc | comp)  # up, maybe running jobs: keep it
      echo "$conf"
      exit 0
      ;;
  esac
fi
# A partial cluster from an earlier start: stop what is left, then start afresh.
bash "$(dirname "$0")/stop_slurm.sh" "$dir" >/dev/null

host=$(hostname -s)
node=$(slurmd -C | head -1)  # NodeName=<host> CPUs=... RealMemory=..., as slurmd will detect them
mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log" "$dir/run"
chmod 755 "$dir" "$dir/munge"  # munged wants its socket's directory searchable by everyone
if [ ! -f "$dir/munge/munge.key" ]; then
  mungekey --create --keyfile="$dir/munge/munge.key"
fi
chmod 600 "$dir/munge/munge.key"

cat >"$conf" <<CONF
# A private single-node cluster written by tools/slurm/start_slurm.sh; everything lives in $dir.
ClusterName=slt
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=${SLURMCTLD_PORT:-16817}
SlurmdPort=${SLURMD_PORT:-16818}
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket.2
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
# No cgroups: processes are tracked through /proc; tasks are bound to their cores (sched_setaffinity).
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
ReturnToService=2
MinJobAge=600
$node NodeHostname=$host NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF

munged --force --socket="$dir/munge/munge.socket.2" --key-file="$dir/munge/munge.key" \
  --pid-file="$dir/munge/munged.pid" --seed-file="$dir/munge/munged.seed" --log-file="$dir/munge/munged.log"
slurmctld -f "$conf"
slurmd -f "$conf"

for _ in $(seq 120); do
  state=$(sinfo -h -o %t 2>/dev/null || true)
  if [ "$state" = idle ]; then
    echo "$conf"
    exit 0
  fi
  sleep 0.5
done
echo "$0: the node did not become idle (state: '${state:-no answer}'); logs in $dir/log:" >&2
tail -n 20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
exit 1

#!/bin/bash
# Starts a one-node Slurm cluster on localhost for the project's tests (Debian's slurmctld,
# slurmd, slurm-client and munge; run as root, no systemd): munged with its own key and socket,
# slurmctld and slurmd with a slurm.conf in DIR, each daemon in the foreground of a background
# job so it is stopped by its PID. Source it, then:
#   slurm_start DIR   -> 0 when the node is idle and takes jobs (SLURM_CONF exported), else 1
#                        with the reason in $slurm_skip_reason (not installed, not root, failed)
#   slurm_stop        -> stops the daemons it started
slurm_pids=()
slurm_skip_reason=""

slurm_start() {
  local dir=$1
  local tool
  for tool in munged slurmctld slurmd sbatch squeue scancel sinfo; do
    if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
      slurm_skip_reason="$tool not installed (Debian packages slurmctld slurmd slurm-client munge)"
      return 1
    fi
  done
  if [ "$(id -u)" -ne 0 ]; then
    slurm_skip_reason="the test's own Slurm daemons run as root (munged and slurmd need it)"
    return 1
  fi
  export PATH="$PATH:/usr/sbin"
  mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"
  chmod 755 "$dir" "$dir/munge"
  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  chmod 400 "$dir/munge/munge.key"
  munged --foreground --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket.2" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed" \
    >"$dir/log/munged.out" 2>&1 &
  slurm_pids+=($!)
  local i
  for i in $(seq 50); do [ -S "$dir/munge/munge.socket.2" ] && break; sleep 0.1; done
  if [ ! -S "$dir/munge/munge.socket.2" ]; then
    slurm_skip_reason="munged did not start: $(tail -3 "$dir/log/munged.log" 2>/dev/null)"
    return 1
  fi

  # Free ports for the controller and the node daemon (another cluster may use the defaults).
  local ctld_port=$((20000 + RANDOM % 20000)) slurmd_port
  slurmd_port=$((ctld_port + 1))
  local memory_mb
  memory_mb=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
  cat > "$dir/slurm.conf" <<CONF
ClusterName=frugaltest
SlurmctldHost=localhost
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket.2
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/slurmd-%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=5
NodeName=localhost CPUs=$(nproc) RealMemory=$memory_mb State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF="$dir/slurm.conf"
  slurmctld -D -i -f "$SLURM_CONF" >"$dir/log/slurmctld.out" 2>&1 &
  slurm_pids+=($!)
  slurmd -D -f "$SLURM_CONF" >"$dir/log/slurmd.out" 2>&1 &
  slurm_pids+=($!)
  for i in $(seq 100); do
    if sinfo -h -o '%T' 2>/dev/null | grep -q '^idle'; then return 0; fi
    sleep 0.2
  done
  slurm_skip_reason="the node did not become idle: $(sinfo 2>&1 | tail -2); $(tail -3 "$dir/log/slurmctld.log" 2>/dev/null)"
  return 1
}

slurm_stop() {
  local pid
  for pid in "${slurm_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${slurm_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  slurm_pids=()
}

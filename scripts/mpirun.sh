#!/usr/bin/env bash
# mpirun for frugal-real on one machine, so that README.md's lines work as written for root and
# for other users: Open MPI refuses to start as root unless OMPI_ALLOW_RUN_AS_ROOT and
# OMPI_ALLOW_RUN_AS_ROOT_CONFIRM are set (ignored for other users); ranks may outnumber cores
# (--oversubscribe) and talk through shared memory and loopback only. Other MPIs get the
# arguments unchanged. Across machines, call your cluster's mpirun or srun directly.
# Usage: scripts/mpirun.sh [mpirun options] -np N COMMAND [ARGS...]
set -euo pipefail
if mpirun --version 2>/dev/null | grep -q "Open MPI"; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  exec mpirun --oversubscribe --mca btl self,vader --mca oob_tcp_if_include lo "$@"
fi
exec mpirun "$@"

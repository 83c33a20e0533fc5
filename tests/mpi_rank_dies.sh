#!/usr/bin/env bash
# A rank that dies in the middle of fit (here it calls _exit, as a crash or
# a kill would end it) must end the whole run at once, not leave the other
# rank waiting in the step's MPI_Allreduce: mpirun sees a process leave
# without MPI_Finalize and stops the job. mpirun's own --timeout (60 s)
# would also end a hang, so the test fails unless the run ends within 30 s
# with a non-zero status and mpirun's message about the process.
# usage: mpi_rank_dies.sh MPIRUN TEST_DISTRIBUTED
set -uo pipefail
mpirun=$1 program=$2
start=$SECONDS
out=$("$mpirun" -np 2 --oversubscribe --timeout 60 "$program" --die 2>&1)
status=$?
elapsed=$((SECONDS - start))
echo "$out"
echo "mpi_rank_dies: mpirun exited with status $status after ${elapsed}s"
if [[ $status -eq 0 ]]; then
    echo "mpi_rank_dies: expected a failure"
    exit 1
fi
if [[ $elapsed -ge 30 ]]; then
    echo "mpi_rank_dies: the run was not stopped when its rank died"
    exit 1
fi
grep -q 'exited with non-zero status\|exited on signal\|returned a non-zero exit code' <<<"$out" || {
    echo "mpi_rank_dies: mpirun did not say that a process failed"
    exit 1
}
echo "mpi_rank_dies: ok"

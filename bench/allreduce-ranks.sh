#!/usr/bin/env bash
# Runs `eiview-bench allreduce` as N ranks on this machine (loopback rendezvous, as
# torchrun's variables), each checking the trainer's gradient sums; exits non-zero when
# any rank fails. CTest runs it with 2 CPU ranks (bench_allreduce_two_ranks);
# bench/gpu-check.sh with the ranks' tensors on one GPU.
#
#   bench/allreduce-ranks.sh EIVIEW_BENCH N [allreduce options...]
set -uo pipefail
bench="${1:?usage: allreduce-ranks.sh EIVIEW_BENCH N [options]}"
n="${2:?usage: allreduce-ranks.sh EIVIEW_BENCH N [options]}"
shift 2
port="$(/usr/bin/env python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
pids=()
for ((r = 0; r < n; r++)); do
  MASTER_ADDR=127.0.0.1 MASTER_PORT="$port" WORLD_SIZE="$n" RANK="$r" LOCAL_RANK=0 OMP_NUM_THREADS=1 \
    timeout 300 "$bench" allreduce "$@" &
  pids+=($!)
done
rc=0
for p in "${pids[@]}"; do
  wait "$p" || rc=1
done
exit "$rc"

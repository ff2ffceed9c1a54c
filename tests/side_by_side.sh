#!/usr/bin/env bash
# The runtime, docs and k8s tests in two pytest runs at the same time (make test):
#   - the tests on free ports, side by side in WORKERS xdist workers;
#   - the tests on the default ports (dapr.yaml's, the default control plane's, marked
#     default_ports by tests/conftest.py), one at a time, with a state directory of their own
#     (each run's ledger of started processes holds only its own) and, where the machine allows
#     it, a network namespace of their own: most default control-plane ports (50005, 50006,
#     58080, 59090...) lie in Linux's ephemeral range, where any loopback connection of the
#     other run may hold one as its source port, and then the service cannot bind it.
# Both wait mostly on timers (due times, retries, leases), so together they take about as long
# as the longer one. Without a network namespace the default-port tests run after the others.
# Fails if either run fails; the default-port run's output follows the other's.
#
# The throwaway control planes (dozens of schedulers, each an embedded etcd that syncs its
# write-ahead log to disk on every write) keep their data on a RAM disk when there is one
# (/dev/shm, a tmpfs with at least 6 GB free): on a shared VM disk one fdatasync took 1.3-3.2 s
# while a run started its schedulers (etcd's "slow fdatasync" warnings, CI 2026-12-02), and a
# DELETE of a job then timed out after 10 s. It is the same scheduler and the same etcd; only
# the disk under them differs. The folder goes when both runs pass; after a failure its logs
# are kept (named at the end) until the next `make test` or `make clean`.
#
#   bash tests/side_by_side.sh [WORKERS]   both runs (make test)
#   bash tests/side_by_side.sh --clean     only remove what an earlier run kept (make clean)
set -u
prefix=dapr-jobs-workbook-test
remove_kept() { # what an earlier run kept: .state/scratch links to it on the RAM disk
  local kept
  kept=$(readlink .state/scratch 2>/dev/null)
  case $kept in "/dev/shm/$prefix."?*) rm -rf "$kept" ;; esac
  rm -rf .state/scratch
}
if [ "${1:-}" = --clean ]; then remove_kept; exit 0; fi
workers=${1:-3}
mkdir -p .state/alone
remove_kept
# and what killed runs left there over 2 h ago
find /dev/shm -maxdepth 1 -user "$(id -u)" -name "$prefix.*" -mmin +120 -exec rm -rf {} + 2>/dev/null
if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] &&
  [ "$(df -Pk /dev/shm | awk 'NR == 2 {print $4}')" -ge 6000000 ]; then
  scratch=$(mktemp -d "/dev/shm/$prefix.XXXXXX") && ln -s "$scratch" .state/scratch
  echo "== throwaway control planes on a RAM disk: $scratch =="
else
  scratch=$PWD/.state/scratch && mkdir -p "$scratch"
  echo "== no RAM disk with 6 GB free: throwaway control planes on disk, in $scratch =="
fi
alone_run=(env WORKBOOK_STATE_DIR="$PWD/.state/alone" WORKBOOK_TMP_DIR="$scratch/alone-tmp"
  pytest -p no:nbval -m default_ports --ignore=tests/unit --basetemp="$scratch/alone"
  --durations=10 --junitxml=.state/test-alone.xml)
side_run=(env WORKBOOK_TMP_DIR="$scratch/side-tmp"
  pytest -p no:nbval -n "$workers" -m "not default_ports" --ignore=tests/unit
  --basetemp="$scratch/side" --durations=20 --junitxml=.state/test-side-by-side.xml)
finish() { # exit status of the two runs -> that status; the scratch folder goes if it is 0
  if [ "$1" -eq 0 ]; then
    rm -rf "$scratch" .state/scratch
  else  # the logs stay; etcd's data (its WAL alone is 64 MB a scheduler) goes
    find "$scratch" -type d -name member -prune -exec rm -rf {} + 2>/dev/null
    echo "== logs kept: $scratch (the next make test, or make clean, removes them) =="
  fi
  exit "$1"
}

isolate=()
if command -v ip >/dev/null; then
  for candidate in "unshare -n" "unshare -rn"; do # as root; else in a user namespace
    if $candidate sh -c 'ip link set lo up' 2>/dev/null; then
      read -ra isolate <<<"$candidate"
      break
    fi
  done
fi

if [ ${#isolate[@]} -eq 0 ]; then
  echo "== no network namespace here: the default-port tests run after the others =="
  "${side_run[@]}"
  side=$?
  "${alone_run[@]}"
  finish $((side != 0 || $? != 0))
fi

# Only loopback in there: daprd finds no host address of its own, so it is given 127.0.0.1
# (what `dapr run -f` gives it too).
"${isolate[@]}" sh -c 'ip link set lo up && exec "$@"' sh env DAPR_HOST_IP=127.0.0.1 "${alone_run[@]}" \
  >.state/test-alone.log 2>&1 &
alone=$!
# Interrupted (Ctrl-C reaches the foreground run): end the background run too, and wait for it.
trap 'kill -TERM "$alone" 2>/dev/null; wait "$alone"; exit 130' INT TERM HUP
"${side_run[@]}"
side=$?
wait "$alone"
solo=$?
echo "== the default-port tests (at the same time, in a network namespace of their own: ${isolate[*]}): exit $solo =="
cat .state/test-alone.log
finish $((side != 0 || solo != 0))

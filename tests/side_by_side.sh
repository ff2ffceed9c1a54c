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
set -u
workers=${1:-3}
mkdir -p .state/alone
alone_run=(env WORKBOOK_STATE_DIR="$PWD/.state/alone" pytest -p no:nbval -m default_ports --ignore=tests/unit
  --durations=10 --junitxml=.state/test-alone.xml)
side_run=(pytest -p no:nbval -n "$workers" -m "not default_ports" --ignore=tests/unit --durations=20
  --junitxml=.state/test-side-by-side.xml)

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
  exit $((side != 0 || $? != 0))
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
exit $((side != 0 || solo != 0))

#!/usr/bin/env bash
# The runtime, docs and k8s tests in two pytest runs at the same time (make test):
#   - the tests on free ports, side by side in WORKERS xdist workers;
#   - the tests on the default ports (dapr.yaml's, the default control plane's, marked
#     default_ports by tests/conftest.py), one at a time, with a state directory of their own,
#     so each run's ledger of started processes holds only its own.
# Both wait mostly on timers (due times, retries, leases), so together they take about as long
# as the longer one. Fails if either fails; the default-port run's output follows the other's.
set -u
workers=${1:-3}
mkdir -p .state/alone
WORKBOOK_STATE_DIR="$PWD/.state/alone" pytest -m default_ports --ignore=tests/unit \
  --durations=10 --junitxml=.state/test-alone.xml >.state/test-alone.log 2>&1 &
alone=$!
# Interrupted (Ctrl-C reaches the foreground run): end the background run too, and wait for it.
trap 'kill -TERM "$alone" 2>/dev/null; wait "$alone"; exit 130' INT TERM HUP
pytest -n "$workers" -m "not default_ports" --ignore=tests/unit --durations=20 \
  --junitxml=.state/test-side-by-side.xml
side=$?
wait "$alone"
solo=$?
echo "== the default-port tests (run at the same time, one at a time): exit $solo =="
cat .state/test-alone.log
exit $((side != 0 || solo != 0))

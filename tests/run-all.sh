#!/usr/bin/env bash
# The whole suite, real servers included: install what the tests need (idempotent), then run pytest.
# The integration fixtures start the lab servers themselves (tests/lab), idempotently.
# Run as root on Debian 12. Extra arguments go to pytest (e.g. -k galera, -m "not lab"): one pytest run.
set -euo pipefail
cd "$(dirname "$0")/.."
tests/lab/install.sh
if [ "$#" -ne 0 ]; then
    exec .venv/bin/python -m pytest -q -ra --durations=15 "$@"
fi
# The lab cloud of hosts takes minutes to boot: it comes up beside the unit, UI and loopback-lab
# tests; its own tests run last (tests/conftest.py) and wait on its lock until it is up. With
# arguments, a cloud test that is selected brings it up itself.
base="${HATUI_LAB_BASE:-/tmp/hatui-lab}"
mkdir -p "$base"
.venv/bin/python -m tests.lab up cloud >"$base/cloud-up.log" 2>&1 &
# The tests without a server (unit, UI: CPU only) run beside the lab tests, at the lowest priority: they
# use the CPU the lab tests leave idle while they wait for a fault to show, and never delay one of them.
pure_log="$base/pure-tests.log"
nice -n 19 .venv/bin/python -m pytest -q -ra --durations=10 -p no:cacheprovider tests/unit tests/ui \
    >"$pure_log" 2>&1 &
pure=$!
set +e
.venv/bin/python -m pytest -q -ra --durations=15 tests/integration tests/lab
labs=$?
wait "$pure"
pure_rc=$?
set -e
echo "== the unit and UI tests (run beside the lab tests): $pure_log"
cat "$pure_log"
if [ "$labs" -ne 0 ]; then exit "$labs"; fi
exit "$pure_rc"

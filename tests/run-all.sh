#!/usr/bin/env bash
# The whole suite, real servers included: install what the tests need (idempotent), then run pytest.
# The integration fixtures start the lab servers themselves (tests/lab), idempotently.
# Run as root on Debian 12. Extra arguments go to pytest (e.g. -k galera, -m "not lab").
set -euo pipefail
cd "$(dirname "$0")/.."
tests/lab/install.sh
if [ "$#" -eq 0 ]; then
    # The lab cloud of hosts takes minutes to boot: it comes up beside the unit, UI and loopback-lab
    # tests; its own tests run last (tests/conftest.py) and wait on its lock until it is up. With
    # arguments, a cloud test that is selected brings it up itself.
    base="${HATUI_LAB_BASE:-/tmp/hatui-lab}"
    mkdir -p "$base"
    .venv/bin/python -m tests.lab up cloud >"$base/cloud-up.log" 2>&1 &
fi
exec .venv/bin/python -m pytest -q -ra --durations=15 "$@"

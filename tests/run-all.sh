#!/usr/bin/env bash
# The whole suite, real servers included: install what the tests need (idempotent), then run pytest.
# The integration fixtures start the lab servers themselves (tests/lab), idempotently.
# Run as root on Debian 12. Extra arguments go to pytest (e.g. -k galera, -m "not lab").
set -euo pipefail
cd "$(dirname "$0")/.."
tests/lab/install.sh
exec .venv/bin/python -m pytest -q -ra --durations=15 "$@"

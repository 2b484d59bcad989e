#!/usr/bin/env bash
# Install everything the tests need on a Debian 12 machine, idempotently (run as root):
# Debian packages for the real servers, and hatui itself with its test extras in .venv.
set -euo pipefail
cd "$(dirname "$0")/../.."
PKGS="mariadb-server galera-4 rsync mariadb-client rabbitmq-server openipmi ipmitool iproute2 iptables iputils-ping haproxy curl tmux openssl"
missing=$(for p in $PKGS; do dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || echo "$p"; done | xargs)
if [ -n "$missing" ]; then
  echo "== apt: installing $missing"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null
fi
# The Debian packages start their own servers (and the system epmd) on install; the lab runs its own.
for svc in mariadb rabbitmq-server haproxy; do service "$svc" stop >/dev/null 2>&1 || true; done
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip >/dev/null
.venv/bin/pip install -q -e '.[test,lab]'
# The OpenStack servers get a venv of their own (they pin conflicting packages); building it here keeps
# its ~2 minutes out of the first test's timeout.
echo "== OpenStack lab venv"
.venv/bin/python -c 'from tests.lab.openstack import Lab; print(f"{Lab().ensure_venv():.0f} s")'
echo "== install done"

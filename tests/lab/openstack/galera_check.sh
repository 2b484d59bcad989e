#!/bin/sh
# HAProxy external-check for the Galera DB VIP (like kolla's clustercheck): UP only when the node
# answers over TCP within 2 s and says wsrep_local_state = 4 (Synced). A node that is down, frozen,
# non-Primary or donor/joiner fails. Args from HAProxy: <proxy addr> <proxy port> <server addr> <server port>.
out=$(timeout 2 mariadb --protocol=TCP -h "$3" -P "$4" -u haproxy_check --connect-timeout=2 -Nse \
  "SHOW GLOBAL STATUS LIKE 'wsrep_local_state'" 2>/dev/null) || exit 1
case "$out" in
  *[[:space:]]4) exit 0 ;;
esac
exit 1

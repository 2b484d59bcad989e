#!/bin/sh
# ipmi_sim chassis_control program (copied from the reference lab). ipmi_sim calls it as:
#   chassis_control.sh <statefile> get power [boot ...]   -> prints "power:1"
#   chassis_control.sh <statefile> set power "0"          -> exit 0
# The power state lives in a plain file so the lab can reset it out-of-band.
f="$1"; shift; op="$1"; shift
[ -f "$f" ] || echo 1 > "$f"
case "$op" in
  get) for p in "$@"; do case "$p" in
         power) echo "power:$(cat "$f")";;
         boot) echo "boot:default";;
         *) echo "$p:0";; esac; done;;
  set) while [ $# -ge 2 ]; do case "$1" in
         power) echo "$2" > "$f";;
         reset) [ "$2" = 1 ] && echo 1 > "$f";;
       esac; shift 2; done;;
  check) exit 0;;
  *) exit 1;;
esac
exit 0

"""hatui's own test lab: real servers on loopback and in private network namespaces.

Each module starts one kind of server in a known state and injects real faults into it
(kill, freeze, clean stop, partition, alarms, power off). Tests, bench/ and a person at a
shell use the same code: ``python -m tests.lab up galera`` / ``down`` / ``status``.
Nothing here talks to any address outside 127.0.0.0/8 or the lab's own namespaces.
"""

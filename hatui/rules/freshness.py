"""Rules every target shares: no answer, a garbled answer, a stale answer, and a poll taking too long."""
from __future__ import annotations

from collections.abc import Iterator

from hatui.areas import feed
from hatui.model import FailureKind, Finding, Severity
from hatui.rules import RuleContext, finding
from hatui.words import failure_words, human_age, new_client_words, subject_words

# A status query normally answers in milliseconds; one outstanding for half its timeout is already
# unusual and is shown before the timeout fires (a frozen server: lab SIGSTOP, see bench/).
SLOW_FRACTION = 0.5

# Sources whose failures an operator handles differently by kind get one finding id per kind
# (issue 6: a BMC refusing credentials, not answering, and refusing connections are different
# problems with different fixes). Other kinds, and other sources, are "<source>.unreachable".
FAILURE_CONDITIONS = {
    "power": {FailureKind.AUTH: "bmc_auth", FailureKind.TIMEOUT: "bmc_timeout", FailureKind.REFUSED: "bmc_refused"},
    "sensors": {FailureKind.AUTH: "bmc_auth", FailureKind.TIMEOUT: "bmc_timeout", FailureKind.REFUSED: "bmc_refused"},
}
# A source whose failure loses a view, not a service: which node each RPC client is on goes unknown,
# while each node's own management API says whether the queue serves.
FAILURE_SEVERITY = {"rabbitmq-clients": Severity.WARNING,
                    "rabbitmq-queues": Severity.UNKNOWN,  # the queues' copies: unknown, not down
                    "sensors": Severity.WARNING}  # supplies, temperatures, fans unknown: power says the rest


def target_unreachable(ctx: RuleContext) -> Iterator[Finding]:
    """The last poll failed: refused, timeout, auth, TLS ... (fresh failures only).

    "Not allowed" (authenticated, but the account may not read this) says nothing about the
    server's health: it is UNKNOWN (``<source>.not_allowed``), and says what the account needs.

    A new client's failure (hatui renewed its kept connection for this poll) is the same finding, so
    ``check`` (always a new client), ``watch`` and the UI name it alike; while the kept connection still
    answered, the words say so: the server is up but turns new clients away.
    """
    for spec in ctx.specs:
        st = ctx.snapshot.get(*spec.key)
        if st is None or st.latest is None or st.latest.failure is None or not st.fresh:
            continue
        failure = st.latest.failure
        if failure.kind == FailureKind.FORBIDDEN:
            condition, severity = "not_allowed", Severity.UNKNOWN
        else:
            condition = FAILURE_CONDITIONS.get(spec.source, {}).get(failure.kind, "unreachable")
            severity = FAILURE_SEVERITY.get(spec.source, Severity.CRITICAL)
        kept = st.last_ok if st.latest.new_client else None  # (a new client that got in is kept on)
        words = failure_words(failure) if kept is None else \
            new_client_words(failure, ctx.now - kept.observed_at)
        yield finding(spec.source, condition, spec.name, severity, f"{spec.name}: {words}")


def target_stale(ctx: RuleContext) -> Iterator[Finding]:
    """No answer for longer than the target's stale limit, or none yet: UNKNOWN, never healthy."""
    for spec in ctx.specs:
        st = ctx.snapshot.get(*spec.key)
        if st is None or st.fresh:
            continue
        if st.latest is None:
            if ctx.now - ctx.started_at <= spec.stale_after:
                continue  # still waiting for the first answer: shown as "waiting", not a finding
            summary = f"{subject_words(*spec.key)}: no answer yet after {human_age(ctx.now - ctx.started_at)}"
        else:
            summary = f"{subject_words(*spec.key)}: last answer {human_age(st.age)} ago: data is stale"
        yield finding(spec.source, "stale", spec.name, Severity.UNKNOWN, summary)


def target_slow(ctx: RuleContext) -> Iterator[Finding]:
    """A poll outstanding for more than half its timeout: the server is frozen or overloaded."""
    for spec in ctx.specs:
        st = ctx.snapshot.get(*spec.key)
        if st is None or st.pending_for < SLOW_FRACTION * spec.timeout:
            continue
        if st.latest is not None and not st.latest.ok and st.fresh:
            continue  # already reported as unreachable
        yield finding(spec.source, "slow", spec.name, Severity.WARNING,
                      f"{subject_words(*spec.key)}: no answer for {st.pending_for:.1f} s (timeout {spec.timeout:g} s)")


def target_garbled(ctx: RuleContext) -> Iterator[Finding]:
    """A fresh answer that is not what this kind of server says (caught once, when it was parsed)."""
    for spec in ctx.specs:
        st = ctx.snapshot.get(*spec.key)
        if st is None or not st.fresh or st.garbled is None:
            continue
        f = feed(spec.source)
        what = f.answer if f is not None else "understood"
        yield finding(spec.source, "garbled", spec.name, Severity.UNKNOWN,
                      f"{subject_words(*spec.key)}: answer is not {what} ({st.garbled})")


RULES = [target_unreachable, target_garbled, target_stale, target_slow]

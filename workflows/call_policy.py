"""How the workflows call the outside world: one retry policy, and each call's time bounds by name."""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

# CRMs, Slack, e-mail, the read model and the usage source may be down for hours: a handoff waits for
# them rather than losing a message. Attempts are unlimited; a call's schedule-to-close below bounds
# how long it keeps trying, and a rejection that no retry can fix is raised non-retryable where it
# happens (activities/crm.py), so it stops at once.
RETRY_THROUGH_OUTAGES = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_interval=timedelta(minutes=5)
)

# One attempt of any call; the CRM clients' own HTTP timeout sits below it, so a hung request fails
# inside the attempt and is retried.
ATTEMPT_TIMEOUT = timedelta(seconds=30)

# How long each kind of call keeps trying before the workflow goes on without it.
FETCH_DEAL_WITHIN = timedelta(hours=1)  # then the handoff starts from what the CRM event carried
SIDE_EFFECT_WITHIN = timedelta(days=3)  # a notice, a CRM write, a CSM choice: then a timeline warning
USAGE_WITHIN = timedelta(hours=6)  # then the 30-day check records usage as unavailable

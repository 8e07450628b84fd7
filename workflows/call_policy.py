"""How the workflows call the outside world: one retry policy, and each call's time bounds by name."""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.exceptions import TimeoutError as CallTimedOut

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

# A local activity retried within this backoff waits in the worker, holding the workflow task open;
# past it, the wait is a timer in the history. One second rides out a blip; anything longer (the CRM
# or the database down) is waited out durably, and the workflow task is free for people's messages.
LOCAL_RETRY_WITHIN = timedelta(seconds=1)

# What a call that gave up raises: an activity's failure comes wrapped in ActivityError; a local
# activity's arrives as it is (the activity's own ApplicationError, or a TimeoutError).
GAVE_UP = (ActivityError, ApplicationError, CallTimedOut)

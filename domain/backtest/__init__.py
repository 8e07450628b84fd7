"""The backtest: recorded handoffs replayed under a policy, and the two policies compared.

recorded.py     a handoff as the read model (or a file) keeps it: deal facts without contact data,
                per-field statuses rather than text, the messages it received
canonical.py    a stand-in document whose fields the rules judge to the recorded statuses
replay.py       every handoff replayed on one clock, sharing the CSM round robin
report.py       what a policy did to them: breaches, escalations, tiers, holds, times; old vs new
"""

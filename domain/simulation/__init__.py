"""The pure simulator: handoffs replayed on a virtual clock by the same rules the workflows run.

assignments.py    the CSM round robin and open loads, shared by every handoff of one simulation
routing.py        where each scenario message goes, and why one is refused before it arrives
handoff_run.py    one handoff and its children, stepped as the workflows step them
effects.py        what each effect the rules ask for does on the virtual clock
simulator.py      the discrete-event loop over many handoffs, and `simulate` for one scenario
lines.py          the printed timeline (shared with `baton simulate --temporal`)
"""

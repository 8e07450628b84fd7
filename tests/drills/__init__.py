"""Helpers for the fault drills: real processes (dev server, worker, API) and local stub servers."""

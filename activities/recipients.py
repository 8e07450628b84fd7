"""The resolve step of a notice: the directory file read as the notice is sent, its places made people.

A local activity (it reads one small file the worker already caches), recorded in the history like any
activity result, so a replay sees the same people even after the directory changed.
"""

from __future__ import annotations

import asyncio
import os
from datetime import date

from pydantic import BaseModel
from temporalio import activity

from domain.directory import Directory
from domain.recipients import Audience, DealPeople, Resolution, resolve
from infra.directory_file import read_directory


class ResolveRecipients(BaseModel):
    """The places of each notice asked for at one instant, resolved together and in order."""

    notices: list[list[Audience]]
    people: DealPeople
    day: date


class RecipientActivities:
    """`directory`: the file to read (default: $BATON_DIRECTORY), or a directory already read (the
    simulator's, from its scenario)."""

    def __init__(self, directory: Directory | str | os.PathLike[str] | None = None) -> None:
        self._fixed = directory if isinstance(directory, Directory) else None
        self._path = None if isinstance(directory, Directory) else directory

    @activity.defn(name="resolve_recipients")
    async def resolve_recipients(self, request: ResolveRecipients) -> list[Resolution]:
        # An unreadable or invalid directory raises DirectoryError, a plain exception: retried until an
        # operator fixes the file, rather than sending a notice to nobody.
        directory = self._fixed if self._fixed is not None else await asyncio.to_thread(read_directory, self._path)
        return [resolve(places, request.people, directory, request.day) for places in request.notices]

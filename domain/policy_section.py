"""The base of every policy section: unknown keys are errors, and a snapshot never changes."""

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

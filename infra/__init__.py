"""What the API, the worker and the CLI share below them: files and settings they all read, and the
plumbing to Temporal. api/ and worker/ import this package and never each other."""

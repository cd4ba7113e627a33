"""Errors a user may meet. Each carries a French message meant to be shown as is."""


class MixiteError(Exception):
    """An expected failure: bad input, a missing file, a database that cannot be reached.

    The CLI prints `message` (and `hint` when there is one) and exits with `exit_code`; it never
    shows a traceback for these.
    """

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class DatabaseError(MixiteError):
    exit_code = 3

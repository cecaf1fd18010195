"""The stop signal of Tidbok's long-running commands (`serve`, `scheduler`)."""

import signal


class Stopping:
    """True once SIGINT or SIGTERM has arrived: a command's loop ends at its next turn, and
    cleans up on its way out instead of dying mid-step."""

    def __init__(self):
        self.requested = False
        signal.signal(signal.SIGINT, self._request)
        signal.signal(signal.SIGTERM, self._request)

    def _request(self, signum, frame) -> None:
        self.requested = True

    def __bool__(self) -> bool:
        return self.requested

"""Row locks are taken inside a transaction, in one order (docs/architecture.md, "Concurrency").

A service that takes row locks but leaves the transaction to its caller (`lock_therapist`,
`client_merge`, the worker's halves of a sign-up and a password reset) is marked
`@in_transaction`: called outside `transaction.atomic()` it raises at once, on every database.
Without the check a lock outside a transaction is silently no lock at all on SQLite (Django's
own check covers only ORM locks on databases that have SELECT … FOR UPDATE), and on PostgreSQL
a hand-written FOR UPDATE would be released as soon as its statement ends (pretix's
`locking.py` checks the same). On PostgreSQL a lock held elsewhere for longer than
DB_LOCK_TIMEOUT_MS makes the waiting statement fail; the request answers 503
(`tidbok.middleware.database_unavailable`)."""

import functools

from django.db import connection


class TransactionRequired(RuntimeError):
    """A lock-taking service was called outside transaction.atomic(): a programming error."""


def in_transaction(function):
    @functools.wraps(function)
    def checked(*args, **kwargs):
        if not connection.in_atomic_block:
            raise TransactionRequired(f"{function.__qualname__} takes row locks: call it inside transaction.atomic().")
        return function(*args, **kwargs)

    return checked

"""The exception tree of the pipeline.

    NewsletterError
     ├── ConfigError          config.yaml is missing, malformed or invalid (names the key)
     ├── ContentError         an item in the content folder is invalid (names file, line, field)
     │    └── ContentProblems  every problem of one file at once
     ├── FeedError            a feed could not be fetched or parsed (names the feed)
     ├── FetchRefused         a fetch stopped by the pipeline's own rules (pipeline/net/)
     │    ├── AddressRefused   it would reach a non-public address
     │    └── BodyRefused      its body is larger than the cap, or in an unknown encoding
     ├── TemplateError        a template failed to render (names the file and line)
     ├── ProviderError        the mail service refused or failed a call
     │    ├── RetryableProviderError   try again later (429, 5xx, timeouts)
     │    └── PermanentProviderError   stop the send (bad credentials, rejected content)
     ├── SendRefused          a send cannot start now (an unfinished issue, nothing new)
     ├── MailboxError         the bounce mailbox cannot be reached or read (names the server)
     ├── NoSuchIssue          the issue asked for was never built (names its number)
     └── SchemaOutOfDate      the database needs `newsletter db upgrade`

The CLI turns each into one line on stderr and a non-zero exit code; nothing else
catches broadly.
"""

from __future__ import annotations


class NewsletterError(Exception):
    """Base of every error the pipeline reports to its users."""


class ConfigError(NewsletterError):
    pass


class ContentError(NewsletterError):
    """An invalid item file: the message names the file, the line where known, and the field."""

    def __init__(
        self, path: str, reason: str, *, line: int | None = None, field: str | None = None
    ):
        self.path = path
        self.reason = reason
        self.line = line
        self.field = field
        where = path if line is None else f"{path}:{line}"
        what = reason if field is None else f"{field}: {reason}"
        super().__init__(f"{where}: {what}")

    @property
    def problems(self) -> list[ContentError]:
        """Each problem on its own: this one, or those of ContentProblems."""
        return [self]


class ContentProblems(ContentError):
    """Every problem of one item file, found in one reading (the first gives the message)."""

    def __init__(self, problems: list[ContentError]):
        assert problems
        self._problems = problems
        first = problems[0]
        super().__init__(first.path, first.reason, line=first.line, field=first.field)
        if len(problems) > 1:
            self.args = ("\n".join(str(problem) for problem in problems),)

    @property
    def problems(self) -> list[ContentError]:
        return list(self._problems)


class FeedError(NewsletterError):
    pass


class FetchRefused(NewsletterError):
    pass


class AddressRefused(FetchRefused):
    """A host that is, or resolves to, a non-public address; no connection was made."""

    def __init__(self, host: str, address: str):
        self.host = host
        self.address = address
        where = host if host == address else f"{host} ({address})"
        super().__init__(f"{where} is not a public address")


class BodyRefused(FetchRefused):
    pass


class TemplateError(NewsletterError):
    pass


class ProviderError(NewsletterError):
    pass


class RetryableProviderError(ProviderError):
    def __init__(self, message: str, *, retry_after_s: float | None = None):
        super().__init__(message)
        self.retry_after_s = retry_after_s


class PermanentProviderError(ProviderError):
    pass


class SendRefused(NewsletterError):
    pass


class MailboxError(NewsletterError):
    pass


class NoSuchIssue(NewsletterError):
    pass


class SchemaOutOfDate(NewsletterError):
    pass

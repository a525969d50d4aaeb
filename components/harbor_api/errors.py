"""The errors of the Harbor API package; callers catch a status-specific class, never compare status codes.

Every message names the operation (``"create registry 'moreh-ecr'"``) and never a credential.
"""

from __future__ import annotations


class HarborError(Exception):
    """Base class of every error this package raises."""


class HarborConfigError(HarborError):
    """The endpoint, the kubeconfig it points at, or the stack's configuration is unusable."""


class HarborApiError(HarborError):
    """Harbor answered with an error status.

    ``operation`` names the call; ``status`` is the HTTP status; ``code`` and ``message`` come from Harbor's
    error body ``{"errors":[{"code","message"}]}``; ``hint`` says what to do about it, when we know.
    """

    def __init__(
        self,
        operation: str,
        status: int,
        code: str,
        message: str,
        *,
        request_id: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.operation = operation
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.hint = hint
        text = f"{operation} failed: HTTP {status} {code}: {message}"
        if request_id:
            text += f" (request id {request_id})"
        if hint:
            text += f"; {hint}"
        super().__init__(text)

    def with_hint(self, hint: str) -> HarborApiError:
        """The same error (same class) with ``hint`` appended to its message (replacing an earlier hint)."""
        return type(self)(
            self.operation, self.status, self.code, self.message, request_id=self.request_id, hint=hint
        )


class HarborUnauthorizedError(HarborApiError):
    """401: Harbor did not accept the credentials (or, through the service proxy, never saw them)."""


class HarborNotFoundError(HarborApiError):
    """404 where the caller did not ask for "absent is fine"."""


class HarborConflictError(HarborApiError):
    """409: an object of that name already exists."""


class HarborPreconditionFailedError(HarborApiError):
    """412: Harbor refuses because something still depends on the object (repositories, projects, runs)."""


_BY_STATUS: dict[int, type[HarborApiError]] = {
    401: HarborUnauthorizedError,
    404: HarborNotFoundError,
    409: HarborConflictError,
    412: HarborPreconditionFailedError,
}


def error_class(status: int) -> type[HarborApiError]:
    """The :class:`HarborApiError` subclass for an HTTP ``status`` (the base class for other statuses)."""
    return _BY_STATUS.get(status, HarborApiError)


class HarborUnreachableError(HarborError):
    """No answer from Harbor (connection refused, reset, timed out) after every retry."""


class HarborTimeoutError(HarborUnreachableError):
    """Harbor accepted the connection but did not answer within the timeout."""


class HarborUnconfirmedWriteError(HarborError):
    """A write was sent but its outcome is unknown: the response was lost, timed out, or was a 5xx.

    Harbor may have carried it out. Nothing repeats such a write blindly: the caller looks the object up first
    (components/harbor_api/writes.py). ``status`` is the HTTP status of a 5xx answer (None when no answer came),
    ``timed_out`` says the wait ran out, and ``api_error`` keeps Harbor's answer (code, message, request id).
    """

    def __init__(
        self,
        operation: str,
        detail: str,
        *,
        status: int | None = None,
        timed_out: bool = False,
        api_error: HarborApiError | None = None,
    ) -> None:
        self.operation = operation
        self.detail = detail
        self.status = status
        self.timed_out = timed_out
        self.api_error = api_error
        super().__init__(f"{operation}: {detail}")


class HarborNotReadyError(HarborError):
    """Harbor did not become healthy within the wait."""

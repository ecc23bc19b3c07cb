"""The project's error hierarchy.

It lives in the lowest layer (``graphs``) so that both ``graphs`` and ``columns`` raise from
one base; ``columns`` re-exports every class. Each error message names the offending
node, edge, field or parameter and says what was expected.
"""

from __future__ import annotations


class ColumnsError(Exception):
    """Base class of every error this project raises on bad input or failed runs."""


class GraphError(ColumnsError, ValueError):
    """A networkx graph violates the attribute schema (see ``graphs.schema``)."""


class ParameterError(ColumnsError, ValueError):
    """A column or plasticity parameter has the wrong shape, sign or value."""


class StateError(ColumnsError, ValueError):
    """A state tensor has the wrong shape, dtype or contains non-finite values."""


class StimulusError(ColumnsError, ValueError):
    """A stimulus has the wrong shape, time axis, or contains non-finite values."""


class DeviceError(ColumnsError, RuntimeError):
    """Tensors that must share a device (or dtype) do not."""


class SolverError(ColumnsError, ValueError):
    """Unknown solver or method, or a solver failed to converge (names the time)."""


class DivergenceError(ColumnsError, RuntimeError):
    """The integration diverged (non-finite state or norm bound exceeded).

    Attributes:
        time: the first recorded time at which the state was non-finite or above the bound
            (or, when the solver itself failed inside an interval, the end of that interval).
        recording: the ``Recording`` up to and including the last good sample.
    """

    def __init__(self, message: str, time: float, recording=None):
        super().__init__(message)
        self.time = time
        self.recording = recording


class OutputError(ColumnsError, OSError):
    """A file or folder cannot be written where asked (no permission, a file where a folder must
    be, a folder where a file must be, a full disk); the message names the target, never a
    temporary file."""


class ConfigError(ColumnsError, ValueError):
    """An experiment configuration key or value is invalid (CLI ``--key=value``)."""


USER_CODE = "_columns_raised_in_user_code"
"""Attribute set on an exception raised inside user code (a stimulus callable, a column type
defined outside this package): ``simulate`` re-raises it as itself, never as a divergence."""


def mark_user_error(err: BaseException) -> BaseException:
    """Tag ``err`` as raised in user code (``USER_CODE``) and return it."""
    try:
        setattr(err, USER_CODE, True)
    except (AttributeError, TypeError):
        pass
    return err


def is_user_error(err: BaseException) -> bool:
    return bool(getattr(err, USER_CODE, False))


class AnalysisError(ColumnsError, ValueError):
    """An analysis input is invalid (labels out of range, a NaN threshold, a lag too long)."""


class RecordingError(ColumnsError, ValueError):
    """A recording file cannot be read as a ``Recording`` (missing, truncated, foreign)."""


class FieldError(ColumnsError, KeyError):
    """A recording has no field of that name (the message lists the fields it has)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class LabelError(ColumnsError, KeyError):
    """No column has that label (the message lists some of the labels there are)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class RegistryError(ColumnsError, TypeError):
    """A column type cannot be registered (no ``type_name``, not a ``ColumnType``, name taken)."""

"""Sensory input s(t) per column: a callable, a sampled tensor stream, or a constant.

Shapes: ``stimulus(t)`` returns a tensor broadcastable to (B, N): (), (N,), (1, N) or (B, N).
Sampled streams: times (T,), values (T, N) or (T, B, N); between samples the value is linearly
interpolated (``interpolation="linear"``) or held (``"previous"``); outside the sampled range the
first/last sample is held.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from graphs.errors import StimulusError, mark_user_error

INTERPOLATIONS = ("linear", "previous")


class Stimulus(nn.Module):
    """s(t) for a network of N columns. Final class; build with the class methods."""

    def __init__(self, fn: Callable | None = None, times=None, values=None,
                 interpolation: str = "linear", check_finite: bool = True):
        super().__init__()
        self.fn = fn
        self.interpolation = interpolation
        self.check_finite = check_finite
        if interpolation not in INTERPOLATIONS:
            raise StimulusError(f"interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}")
        if fn is None:
            times = torch.as_tensor(times, dtype=torch.float64)
            values = torch.as_tensor(values)
            if not values.is_floating_point():
                values = values.to(torch.float64)
            if times.dim() != 1 or times.numel() < 1:
                raise StimulusError(f"stimulus times must be a non-empty 1-D tensor, got shape "
                                    f"{tuple(times.shape)}")
            if values.dim() not in (2, 3) or values.shape[0] != times.shape[0]:
                raise StimulusError(f"stimulus values must have shape (T, N) or (T, B, N) with T = "
                                    f"{times.shape[0]} samples, got {tuple(values.shape)}")
            if times.numel() > 1 and not (times.diff() > 0).all():
                raise StimulusError("stimulus times must be strictly increasing")
            bad = ~torch.isfinite(values)
            if bad.any():
                k = bad.nonzero()[0].tolist()
                raise StimulusError(f"stimulus values contain a non-finite entry at index {k} "
                                    f"(t = {times[k[0]].item()})")
            self.register_buffer("times", times)
            self.register_buffer("values", values)
        else:
            self.times = None
            self.values = None

    # -- constructors ---------------------------------------------------------------------------
    @classmethod
    def from_callable(cls, fn: Callable, check_finite: bool = True) -> "Stimulus":
        """s(t) = fn(t) (t a scalar tensor); output broadcastable to (B, N).

        Returns:
            A ``Stimulus`` that calls ``fn`` at every evaluation.

        Raises:
            StimulusError: ``fn`` is not callable.
        """
        if not callable(fn):
            raise StimulusError(f"stimulus must be callable, got {type(fn).__name__}")
        return cls(fn=fn, check_finite=check_finite)

    @classmethod
    def sampled(cls, times, values, interpolation: str = "linear") -> "Stimulus":
        """A sampled stream: times (T,), values (T, N) or (T, B, N).

        Returns:
            A ``Stimulus`` interpolating the samples ("linear" or "previous") and holding the end
            values outside ``times``.
        """
        return cls(times=times, values=values, interpolation=interpolation)

    @classmethod
    def constant(cls, value) -> "Stimulus":
        """Constant s: a scalar, (N,) or (B, N).

        Returns:
            A ``Stimulus`` with the value at every time.

        Raises:
            StimulusError: a value of another shape than (), (N,) or (B, N).
        """
        v = torch.as_tensor(value, dtype=torch.float64)
        if v.dim() > 2:
            raise StimulusError(f"constant stimulus must be (), (N,) or (B, N), got {tuple(v.shape)}")
        return cls(times=torch.zeros(1), values=v.reshape(1, *v.shape) if v.dim() else v.reshape(1, 1))

    # -- evaluation -----------------------------------------------------------------------------
    def forward(self, t) -> torch.Tensor:
        """s(t). Shapes: -> broadcastable to (B, N).

        Returns:
            s(t), a tensor broadcastable to (B, N).

        Raises:
            StimulusError: the function raised (chained), returned something that is not a number or
                tensor, or returned NaN/inf (with ``check_finite``).
        """
        if self.fn is not None:
            try:
                raw = self.fn(t)
            except Exception as err:                 # the user's callable: passes through as itself
                raise mark_user_error(err)
            out = raw
            if not torch.is_tensor(out):
                try:
                    out = torch.as_tensor(raw)
                except (TypeError, ValueError, RuntimeError):
                    out = None
                if out is None or not (out.dtype.is_floating_point or out.dtype.is_complex
                                       or out.dtype in (torch.int32, torch.int64, torch.bool)):
                    raise StimulusError(f"stimulus returned {type(raw).__name__} {repr(raw)[:60]} "
                                        f"at t = {float(t)}; expected a number, an array or a "
                                        "tensor of shape (), (N,) or (B, N)") from None
            if self.check_finite and not torch.isfinite(out).all():
                raise StimulusError(f"stimulus returned a non-finite value at t = {float(t)}")
            return out
        if self.times.numel() == 1:
            return self.values[0]
        tt = torch.as_tensor(t, dtype=self.times.dtype, device=self.times.device).reshape(1)
        k = torch.searchsorted(self.times, tt, right=True).clamp(1, self.times.numel() - 1) - 1
        k = k[0]
        v0, v1 = self.values[k], self.values[k + 1]
        if self.interpolation == "previous":
            return v1 if bool(tt >= self.times[k + 1]) else v0
        frac = ((tt - self.times[k]) / (self.times[k + 1] - self.times[k])).clamp(0.0, 1.0)
        return v0 + frac.to(v0.dtype) * (v1 - v0)

    def check(self, t0: float, batch: int, n_nodes: int, dtype, device) -> None:
        """Evaluate at t0 and check the shape broadcasts to (batch, n_nodes); raise StimulusError.

        Raises:
            StimulusError: the value at ``t0`` does not broadcast to (batch, n_nodes), or lies on
                another device.
        """
        out = self(torch.tensor(t0, dtype=dtype, device=device))
        shape = tuple(out.shape)
        ok = out.dim() <= 2 and (out.dim() == 0 or out.shape[-1] in (1, n_nodes)) and (
            out.dim() < 2 or out.shape[0] in (1, batch))
        if not ok:
            raise StimulusError(f"stimulus has shape {shape} at t = {t0}; expected a shape that "
                                f"broadcasts to (B, N) = ({batch}, {n_nodes})")
        if out.device.type != torch.device(device).type and out.numel() > 1:
            raise StimulusError(f"stimulus is on {out.device} but the network is on {device}")


def as_stimulus(stimulus, n_nodes: int) -> Stimulus | None:
    """A ``Stimulus`` from a ``Stimulus``, a callable of t, a constant, or None (no stimulus);
    ``StimulusError`` when sampled values do not have 1 or ``n_nodes`` columns."""
    if stimulus is None or isinstance(stimulus, Stimulus):
        st = stimulus
    elif callable(stimulus):
        st = Stimulus.from_callable(stimulus)
    else:
        st = Stimulus.constant(stimulus)
    if st is not None and st.values is not None and st.values.shape[-1] not in (1, n_nodes):
        raise StimulusError(f"stimulus has {st.values.shape[-1]} columns, the network has {n_nodes}")
    return st

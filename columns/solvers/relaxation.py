"""Explicit iteration of a flow or a map on its own (no ``Network``, no recording): the free runs
and relaxations the analysis needs, integrated here so that integration lives in the solvers.

    iterate   x_k = x_{k−1} + Δt f(x_{k−1}, u_k),  k = 1..steps, sampled every ``every`` steps
              (a flow: Euler with Δt; a map written as an increment g(x; u) − x: Δt = 1, u_k its
              k-th draw, or None)
    relax     x ← x + Δt f(x) on the members not yet at rest, until max|f| < tol for every
              member (or ``max_steps``, or, with ``give_up``, once no member still moving can
              reach tol by then at its current rate)

Shapes: x0 (B, N); iterate -> (steps // every + 1, B, N); relax -> (x (B, N), at rest (B,),
steps taken).
"""

from __future__ import annotations

from typing import Callable

import torch

from graphs.errors import DivergenceError


def iterate(f: Callable, x0: torch.Tensor, steps: int, every: int = 1, dt: float = 1.0,
            draw: Callable[[int], torch.Tensor | None] = lambda k: None,
            what: str = "the flow") -> torch.Tensor:
    """The samples x_0, x_every, x_2·every, … of x_k = x_{k−1} + dt · f(x_{k−1}, draw(k)).

    Raises ``DivergenceError`` (naming ``what`` and the sample) when a sample is not finite.

    Returns:
        The samples (steps // every + 1, *x0.shape).

    Raises:
        DivergenceError: a sample that is not finite.
    """
    out, x = [x0.clone()], x0.clone()
    for k in range(1, steps + 1):
        x = x + dt * f(x, draw(k))
        if k % every == 0:
            out.append(x)
    return finite(torch.stack(out), what)


def relax(f: Callable, x0: torch.Tensor, dt: float = 0.05, max_steps: int = 20000,
          tol: float = 1e-9, give_up: int | None = None) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Euler relaxation of ẋ = f(x) from ``x0`` (module ``columns.solvers.relaxation``): (x, at
    rest (B,), steps).

    ``give_up`` = W: every W steps, stop early when no member still moving can come to rest
    within ``max_steps`` at the rate its speed s = max|f| fell over the last W steps, i.e. when
    s_k · min(1, s_k / s_{k−W})^((max_steps − k) / W) ≥ tol for every one (geometric
    extrapolation: a member on a cycle, or one slowing by less than that, is not at rest at the
    cap either). None runs to the cap.

    Raises ``FloatingPointError`` when f becomes non-finite (naming the step and Δt).

    Returns:
        (x like x0, at rest (B,) bool, steps taken).

    Raises:
        FloatingPointError: the flow became non-finite.
    """
    x = x0.clone()
    prev = None
    for k in range(max_steps):
        v = f(x)
        if not torch.isfinite(v).all():
            raise FloatingPointError(f"relax: the flow became non-finite after {k} steps (dt {dt})")
        speed = v.abs().amax(1)
        done = speed < tol
        if bool(done.all()):
            return x, done, k
        if give_up and k % give_up == 0:
            if prev is not None:
                rate = (speed / prev.clamp(min=torch.finfo(speed.dtype).tiny)).clamp(max=1.0)
                reach = speed * rate ** ((max_steps - k) / give_up)
                if bool((reach[~done] >= tol).all()):
                    return x, done, k
            prev = speed
        x = x + dt * v * (~done).unsqueeze(1)
    return x, f(x).abs().amax(1) < tol, max_steps


def finite(x: torch.Tensor, what: str) -> torch.Tensor:
    """``x`` (K, …) itself, or ``DivergenceError`` naming the first non-finite sample k."""
    if not torch.isfinite(x).all():
        k = int((~torch.isfinite(x)).flatten(1).any(1).nonzero()[0, 0])
        raise DivergenceError(f"replay: {what} became non-finite at sample {k}", time=float(k))
    return x

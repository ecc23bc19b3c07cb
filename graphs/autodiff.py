"""Whether an operation must stay differentiable, and leaves that keep a forward-mode tangent.

The fast paths (CSR products, the compiled kernels) propagate neither autograd's graph nor a
forward-mode tangent (``torch.autograd.forward_ad``, ``torch.func.jvp``): they may run only when
``tracked`` is False. Columns that take their equations from autograd of H differentiate with
respect to ``grad_leaf``'s leaf, which carries the input's tangent, so that forward-over-reverse
(a Jacobian-vector product of ∂H/∂y) is exact.
"""

from __future__ import annotations

import torch
import torch.autograd.forward_ad as fwAD


def has_tangent(t: torch.Tensor) -> bool:
    """``t`` carries a forward-mode tangent (a dual tensor at the current level).

    Returns:
        True or False.
    """
    return fwAD.unpack_dual(t).tangent is not None


def tracked(*tensors: torch.Tensor) -> bool:
    """Autograd records an operation on ``tensors`` (grad enabled and one requires grad), or one
    of them carries a forward-mode tangent.

    Returns:
        True when only differentiable torch operations may touch these tensors.
    """
    if torch.is_grad_enabled() and any(t.requires_grad for t in tensors):
        return True
    return any(has_tangent(t) for t in tensors)


def grad_leaf(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(leaf, value): differentiate with respect to ``leaf`` and compute with ``value``, so that
    the gradient is the partial derivative along this argument only (not through other
    arguments computed from ``t`` upstream, e.g. ν from μ). When ``t`` requires grad, a fresh
    alias of it for both (its graph to the caller's inputs kept: second derivatives work);
    otherwise a detached copy that requires grad, with ``t``'s forward-mode tangent put back on
    the value (then the gradient carries the Jacobian-vector product, forward over reverse).

    Returns:
        (leaf, value) tensors shaped like ``t``.
    """
    if t.requires_grad:
        alias = t.view_as(t)
        return alias, alias
    primal, tangent = fwAD.unpack_dual(t)
    leaf = primal.detach().requires_grad_(True)
    return leaf, (leaf if tangent is None else fwAD.make_dual(leaf, tangent))

"""Muon on a network's matrices (a CNN's convolution filters, an MLP's hidden layers) and
Adam on its other weights, as one optimizer.

``torch.optim.Muon`` orthogonalises 2-D updates only. A channels-last filter bank
(out, in, k, k) is laid out in memory as an (out, k*k*in) matrix, so Muon steps a matrix
view that shares the filters' memory; the order of a matrix's columns does not change its
orthogonalisation. One ``Optimizer`` holds both parts' groups and state, so schedules,
``zero_grad`` and checkpoints treat it as any other.
"""

from __future__ import annotations

import torch
from torch import nn


def filter_matrix(filters: torch.Tensor) -> torch.Tensor:
    """The (out, k*k*in) matrix that shares the memory of channels-last ``filters``; a dense
    layer's weight is its own matrix."""
    if filters.ndim == 2:
        return filters.detach()
    matrix = filters.detach().permute(0, 2, 3, 1)
    if not matrix.is_contiguous():
        raise ValueError("Muon steps convolution filters in channels-last memory format only")
    return matrix.view(filters.shape[0], -1)


class MuonWithAdam(torch.optim.Optimizer):
    """``torch.optim.Muon`` at ``muon_lr`` on ``filters`` (4-D filters or 2-D weights); Adam
    (or AdamW) on ``groups``.

    ``groups`` are Adam parameter groups (weight decay, rates), as ``param_groups`` makes.
    Muon's groups come last; each group's ``lr`` is its peak under a schedule.
    """

    def __init__(self, filters: list[torch.Tensor], groups: list[dict], lr: float, muon_lr: float,
                 momentum: float) -> None:  # fmt: skip
        self.filters = list(filters)
        self.matrices = [nn.Parameter(filter_matrix(w)) for w in self.filters]
        adam = torch.optim.AdamW if any(g.get("weight_decay") for g in groups) else torch.optim.Adam
        self.adam = adam(groups, lr=lr)  # every network here has a head and BatchNorm for it
        self.muon = torch.optim.Muon(self.matrices, lr=muon_lr, momentum=momentum, weight_decay=0.0)
        super().__init__(self.adam.param_groups + self.muon.param_groups, {})
        self._share()

    def _share(self) -> None:
        """The inner optimizers step this one's groups and state (a schedule sets the rates here)."""
        adam_groups = len(self.adam.param_groups)
        self.adam.param_groups, self.adam.state = self.param_groups[:adam_groups], self.state
        self.muon.param_groups, self.muon.state = self.param_groups[adam_groups:], self.state

    def load_state_dict(self, state_dict: dict) -> None:
        super().load_state_dict(state_dict)
        self._share()

    @torch.no_grad()
    def step(self, closure=None):  # noqa: ANN001 - torch's signature
        if closure is not None:
            raise ValueError("MuonWithAdam.step takes no closure")
        for matrix, w in zip(self.matrices, self.filters, strict=True):
            if w.grad is None or w.ndim == 2:
                matrix.grad = w.grad
            else:
                matrix.grad = w.grad.permute(0, 2, 3, 1).reshape(matrix.shape)
        self.adam.step()
        self.muon.step()

    def zero_grad(self, set_to_none: bool = True) -> None:
        super().zero_grad(set_to_none)
        for w in self.filters:
            w.grad = None

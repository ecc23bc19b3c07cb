"""The canonical middle neuron as a column type: on a graph it is the canonical network (float64)."""

import pytest
import torch

import columns as C
import columns.canonical as K
from columns.canonical import CanonicalColumn, graph_from_network
from graphs.errors import ParameterError

F64 = torch.float64


def _problem(seed):
    g = torch.Generator().manual_seed(seed)
    nx_, no = (int(v) for v in torch.randint(2, 7, (2,), generator=g))
    net = K.to_network(K.random_bayes(nx_, no, 3, g))
    T = 6
    o = (torch.rand(T, no, generator=g, dtype=F64) < 0.5).to(F64)
    x0 = 0.05 + 0.9 * torch.rand(nx_, generator=g, dtype=F64)
    return net, o, x0


@pytest.mark.parametrize("seed", range(20))
def test_graph_of_canonical_columns_runs_the_canonical_inference(seed):
    net, o, x0 = _problem(seed)
    G = graph_from_network(net)
    drive = o @ net.W.mT                                               # sensory drive W o_t
    stim = C.Stimulus.sampled(torch.arange(o.shape[0] + 1.0), torch.cat([drive, drive[-1:]]),
                              interpolation="previous")                 # step k reads W o_{k+1}
    g = C.Network.from_graph(G, stimulus=stim, dtype=F64)
    assert [int(v) for v in g.coupling.node_labels] == list(range(len(x0)))
    col = g.columns["canonical"]
    assert torch.allclose(col.threshold(), net.thresholds()[0], rtol=0, atol=1e-12)   # h from D, c
    y0 = g.initial_state(values={"v": torch.logit(x0)})
    rec = C.simulate(g, torch.arange(o.shape[0] + 1.0), y0=y0, solver="step",
                     solver_options={"stochastic": False, "learn": False})
    x = torch.sigmoid(rec["v"][:, 0])
    prev = x0
    for t in range(o.shape[0]):
        prev = K.fixed_point(net, o[t], prev)                           # x_t = sig(W o_t + K x_{t−1} + h)
        assert torch.allclose(x[t + 1], prev, rtol=0, atol=1e-12)
    # the flow is the rate equation (−∂L/∂x) with the recurrent input at the current rate
    v = torch.logit(x[3]).unsqueeze(0)
    dv = g.forward(torch.tensor(0.0, dtype=F64), v, drive[3].unsqueeze(0))
    assert torch.allclose(dv[0], K.rate_rhs(net, o[3], x[3], x[3]), rtol=0, atol=1e-10)


def test_prior_must_be_a_probability():
    for bad in (0.0, 1.0, -0.2, 1.5):
        with pytest.raises(ParameterError, match="prior"):
            CanonicalColumn(3, prior=bad)
    with pytest.raises(ParameterError, match="column 1"):
        CanonicalColumn(3, prior=torch.tensor([0.2, 1.0, 0.5]))
    with pytest.raises(ParameterError, match="tau"):
        CanonicalColumn(3, tau=0.0)

"""The sequence and replay tools name a bad input (``AnalysisError`` naming the argument), and
properties of the order and follow scores on random label series (hypothesis)."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import columns.analysis as A
from graphs.errors import AnalysisError

SUCC = torch.tensor([1, 2, 0])
SEQ = torch.tensor([0, 1, 2, 0, 1])
LAB = torch.tensor([0, 0, 1, -1, 2, 2])

CASES = {
    "order_score float labels": (lambda: A.order_score(SEQ.double(), SUCC), "order_score: seq must be a 1-D integer"),
    "order_score 2-D labels": (lambda: A.order_score(SEQ.view(1, -1), SUCC), "order_score: seq must be a 1-D"),
    "order_score label beyond the map": (lambda: A.order_score(torch.tensor([0, 3]), SUCC), r"must lie in -1..2"),
    "order_score label below -1": (lambda: A.order_score(torch.tensor([0, -2]), SUCC), r"must lie in -1..2"),
    "order_score float map": (lambda: A.order_score(SEQ, SUCC.double()), "order_score: succ must be a 1-D integer map"),
    "order_score map out of range": (lambda: A.order_score(SEQ, torch.tensor([1, 5, 0])), r"order_score: succ must lie in -1..2"),
    "order_score a string": (lambda: A.order_score("012", SUCC), "order_score: seq"),
    "order_score a number": (lambda: A.order_score(3, SUCC), "must be a label sequence or a list"),
    "shuffle_null n = 0": (lambda: A.shuffle_null(SEQ, SUCC, n=0), "shuffle_null: n must be an integer >= 1"),
    "shuffle_null n float": (lambda: A.shuffle_null(SEQ, SUCC, n=2.5), "shuffle_null: n must be an integer"),
    "shuffle_null negative seed": (lambda: A.shuffle_null(SEQ, SUCC, seed=-1), "shuffle_null: seed must be an integer >= 0"),
    "shuffle_null bool labels": (lambda: A.shuffle_null(SEQ.bool(), SUCC), "must be a 1-D integer"),
    "follow_score lengths differ": (lambda: A.follow_score(LAB, LAB[:-1], SUCC), "follow_score: a and b must have one length"),
    "follow_score 2-D": (lambda: A.follow_score(LAB.view(2, 3), LAB.view(2, 3), SUCC), "follow_score: a must be a 1-D"),
    "follow_score label beyond pred": (lambda: A.follow_score(torch.tensor([0, 4]), torch.tensor([0, 1]), SUCC), "follow_score: a must lie in"),
    "follow_score float pred": (lambda: A.follow_score(LAB, LAB, SUCC.float()), "follow_score: pred must be a 1-D integer map"),
    "circular_null n = 0": (lambda: A.circular_null(LAB, LAB, SUCC, n=0), "circular_null: n must be an integer >= 1"),
    "circular_null negative min_shift": (lambda: A.circular_null(LAB, LAB, SUCC, min_shift=-2), "circular_null: min_shift must be an integer >= 0"),
    "circular_null float labels": (lambda: A.circular_null(LAB.double(), LAB, SUCC), "circular_null: a must be a 1-D integer"),
    "lag_null n = 0": (lambda: A.lag_null(LAB, LAB, 3, 3, 2, n=0), "lag_null: n must be an integer >= 1"),
    "lag_null max_lag too long": (lambda: A.lag_null(LAB, LAB, 3, 3, 6), "max_lag must be in 0..5"),
    "lagged negative max_lag": (lambda: A.lagged(LAB, LAB, 3, 3, -1), "max_lag must be in"),
    "lagged labels beyond ka": (lambda: A.lagged(LAB, LAB, 2, 3, 1), "lagged: a must lie in -1..1"),
    "signed_labels NaN threshold": (lambda: A.signed_labels(torch.ones(3, 2), torch.ones(1, 2), float("nan")), "threshold must be a finite cosine"),
    "signed_labels threshold 2": (lambda: A.signed_labels(torch.ones(3, 2), torch.ones(1, 2), 2.0), "threshold must be a finite cosine"),
    "visits float labels": (lambda: A.visits(torch.tensor([0.0, 1.0])), "visits must be a 1-D integer"),
    "visits below -1": (lambda: A.visits(torch.tensor([0, -3])), "visits must lie in"),
    "transition_matrix 2-D": (lambda: A.transition_matrix(LAB.view(2, 3), 3), "must be a 1-D integer"),
    "dwell_times label beyond K": (lambda: A.dwell_times(LAB, 2), "must lie in -1..1"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_sequence_tool_input_is_named(case):
    call, message = CASES[case]
    with pytest.raises(AnalysisError, match=message):
        call()


def test_a_plain_list_is_one_sequence_and_unlabelled_samples_are_not_a_state():
    assert A.order_score([0, 1, 2, 0], [1, 2, 0]) == (1.0, 3)
    # −1 (no attractor) between visits is skipped, never looked up as a label
    assert A.order_score(torch.tensor([0, -1, 1, -1, 2]), SUCC) == (1.0, 2)
    assert A.order_score([[0, 1], [2, 0]], [1, 2, 0]) == (1.0, 2)          # replicas pooled
    a = torch.randint(0, 3, (200,), generator=torch.Generator().manual_seed(0))
    lg = A.lagged(a, torch.roll(a, 2), 3, 3, 2)                 # b_t = a_(t−2): the best lag is 2
    assert lg["best_lag"] == 2 and lg["best_at_edge"]
    assert not A.lagged(a, torch.roll(a, 2), 3, 3, 4)["best_at_edge"]


labels = st.lists(st.integers(-1, 2), min_size=2, max_size=60)


@settings(max_examples=60, deadline=None)
@given(labels, labels)
def test_scores_are_fractions_and_match_a_direct_count(x, y):
    seq = torch.tensor(x)
    score, n = A.order_score(seq, SUCC)
    v = [k for k in x if k >= 0]
    v = [k for i, k in enumerate(v) if i == 0 or k != v[i - 1]]
    pairs = list(zip(v, v[1:]))
    assert n == len(pairs)
    assert score is None if not pairs else score == sum(b == SUCC[a] for a, b in pairs) / len(pairs)
    null = A.shuffle_null(seq, SUCC, n=20, seed=1)
    assert (null["p"] is None) == (score is None)
    if score is not None:
        assert 1 / 21 <= null["p"] <= 1 and 1 / 21 <= null["p_reverse"] <= 1
    m = min(len(x), len(y))
    a, b = torch.tensor(x[:m]), torch.tensor(y[:m])
    f, k = A.follow_score(a, b, SUCC)
    both = [(p, q) for p, q in zip(x[:m], y[:m]) if p >= 0 and q >= 0]
    assert k == len(both)
    assert f is None if not both else abs(f - sum(q == SUCC[p] for p, q in both) / len(both)) < 1e-12

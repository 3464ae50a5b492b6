"""Model-size and search-space arithmetic against exact integers."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slt.size import log10_candidate_tickets, size_record, ticket_size, weight_training_size


@given(n=st.integers(0, 400), data=st.data())
def test_log_search_space_matches_the_exact_binomial(n, data):
    k = data.draw(st.integers(0, n))
    assert log10_candidate_tickets(n, k) == pytest.approx(math.log10(math.comb(n, k)), abs=1e-9)


def test_sizes_in_bits_and_megabytes():
    assert weight_training_size(1_000_000).megabytes == 4.0
    assert ticket_size(8_000_000).megabytes == 1.0
    assert size_record(10, None)["model_bits"] == 320 and size_record(10, 6)["model_bits"] == 6
    with pytest.raises(ValueError):
        log10_candidate_tickets(3, 4)

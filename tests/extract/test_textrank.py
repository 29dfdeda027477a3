from __future__ import annotations

import numpy as np

from relwatch.extract.textrank import similarity_matrix, textrank


def test_central_sentence_ranks_first_and_scores_are_max_scaled():
    sents = [
        "North Korea fired a ballistic missile into the sea on Monday.",
        "Japan protested the North Korea missile launch.",
        "South Korea said the missile flew 600 km before falling into the sea.",
        "The weather in Paris was sunny.",
    ]
    scores = textrank(sents)
    assert scores.shape == (4,)
    assert scores.max() == 1.0
    assert scores[3] == scores.min()
    assert int(np.argmax(scores)) in (0, 2)


def test_edge_cases():
    assert textrank([]).shape == (0,)
    assert textrank(["Only one."]).tolist() == [1.0]
    # no shared words: every sentence is equally (un)important
    flat = textrank(["Alpha beta gamma.", "Delta epsilon zeta.", "Eta theta iota."])
    assert np.allclose(flat, 1.0)


def test_similarity_is_symmetric_with_zero_diagonal():
    sim = similarity_matrix(["missile launch north", "north missile test", "cats"])
    assert np.allclose(sim, sim.T)
    assert np.all(np.diag(sim) == 0)
    assert sim[0, 1] > 0 and sim[0, 2] == 0

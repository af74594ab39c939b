import pytest

from dedupe.evaluate import clustering_metrics


def test_metrics_on_a_hand_made_clustering():
    m = clustering_metrics([1, 1, 1, 2], ["a", "a", "b", "b"])
    assert m["pairwise_precision"] == pytest.approx(1 / 3)
    assert m["pairwise_recall"] == pytest.approx(1 / 2)
    assert m["pairwise_f1"] == pytest.approx(0.4)
    assert m["bcubed_precision"] == pytest.approx(2 / 3)
    assert m["bcubed_recall"] == pytest.approx(3 / 4)
    assert m["over_merge_rate"] == pytest.approx(1 / 2)
    assert m["under_merge_rate"] == pytest.approx(1 / 2)


def test_perfect_and_all_singletons():
    perfect = clustering_metrics(["x", "x", "y"], [1, 1, 2])
    assert perfect["pairwise_f1"] == 1.0 and perfect["bcubed_f1"] == 1.0
    assert perfect["over_merge_rate"] == 0.0 and perfect["under_merge_rate"] == 0.0
    split = clustering_metrics([1, 2, 3], ["a", "a", "a"])
    assert split["pairwise_recall"] == 0.0 and split["under_merge_rate"] == 1.0
    assert split["bcubed_precision"] == 1.0 and split["bcubed_recall"] == pytest.approx(1 / 3)


def test_lengths_must_agree():
    with pytest.raises(ValueError):
        clustering_metrics([1], [1, 2])

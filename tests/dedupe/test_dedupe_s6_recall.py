"""Session 6, pairwise recall: the place a report's text names, and the levers kept."""
from dedupe import normalize
from dedupe.normalize import AddressKeys, place_from_text

ROADS = frozenset({"龙川路", "九华山路", "云谷路"})


def test_crossing_named_in_the_text_with_its_offset():
    keys = place_from_text(AddressKeys(street="淝河"), normalize.clean_text("龙川路与九华山路交口东330米征地款未足额发放"), ROADS)
    assert keys.crossing == "九华山路|龙川路"
    assert keys.offset == "东330"
    assert keys.place_key == "x:九华山路|龙川路|东330"
    assert keys.street == "淝河"  # what the address said is kept


def test_road_number_in_the_text_takes_the_longest_known_road_suffix():
    text = normalize.clean_text("反映征地款未足额发放，地点在包河区烟墩街道云谷路313号附近")
    keys = place_from_text(AddressKeys(), text, ROADS)
    assert (keys.road, keys.number, keys.place_key) == ("云谷路", "313", "n:云谷路313")


def test_unknown_roads_and_plain_words_name_no_place():
    assert place_from_text(AddressKeys(), "人行道上有坑", ROADS).place_key == ""
    assert place_from_text(AddressKeys(), "长江路与芜湖路交口有积水", ROADS).place_key == ""  # roads not in the batch


def test_an_address_that_names_a_place_wins_over_the_text():
    own = AddressKeys(estate="望湖国际")
    assert place_from_text(own, "龙川路与九华山路交口东330米", ROADS) is own


def test_prepare_gives_a_street_only_petition_the_crossing_its_content_names():
    from dedupe import records as records_mod
    from dedupe_testkit import intake, intake_table

    located = intake("A1", 0, "井盖缺失", address="龙川路与九华山路交口东330米", lon=117.31, lat=31.74)
    petition = intake("P1", 60 * 24, "信访人反映：九华山路与龙川路交口东330米井盖缺失，此前已多次反映。",
                      channel="petition", address="包河区淝河镇")
    vague = intake("P2", 60 * 25, "信访人反映：某某路与另一路交口井盖缺失", channel="petition", address="包河区淝河镇")
    records = records_mod.prepare(intake_table([located, petition, vague]))
    key = {records.source_id[k]: records.place_key[k] for k in range(len(records))}
    assert key["P1"] == key["A1"] == "x:九华山路|龙川路|东330"
    assert key["P2"] == ""  # roads no address of the batch names
    # the petition now borrows the crossing spot's point, like a 110 call naming it in its address
    p1 = records.source_id.index("P1")
    assert records.approximate[p1] and records.has_point[p1]


def _levels(rows):
    import numpy as np

    from dedupe import records as records_mod, scoring
    from dedupe_testkit import intake_table

    records = records_mod.prepare(intake_table(rows))
    n = len(records)
    i, j = np.triu_indices(n, k=1)
    return records, scoring.comparison_levels(records, i.astype(np.int64), j.astype(np.int64))


def test_a_report_after_the_earlier_one_was_closed_is_beyond_it_in_time():
    from dedupe_testkit import intake

    lon, lat = 117.31, 31.74
    closed = intake("C1", 0, "路灯不亮", lon=lon, lat=lat, closed_minutes=60 * 24)
    after = intake("C2", 60 * 48, "路灯不亮", lon=lon, lat=lat)
    _, levels = _levels([closed, after])
    assert levels["time"].tolist() == [0]
    still_open = intake("C1", 0, "路灯不亮", lon=lon, lat=lat, closed_minutes=60 * 72)
    _, levels = _levels([still_open, after])
    assert levels["time"].tolist() == [1]  # within the window, more than a day apart
    answered = intake("C1", 0, "路灯不亮", lon=lon, lat=lat, dispatched=False, closed_minutes=60)
    _, levels = _levels([answered, after])
    assert levels["time"].tolist() == [1]  # no unit closed it: not a closure


def test_spatial_blocking_over_the_window_when_the_keyword_topic_agrees_though_the_labels_do_not():
    import numpy as np

    from dedupe import blocking
    from dedupe_testkit import intake

    lon, lat = 117.31, 31.74
    labelled = intake("K1", 0, "井盖破损", lon=lon, lat=lat, category="城乡建设/市政设施/井盖")
    unlabelled = intake("K2", 60 * 24 * 3, "井盖破损松动", lon=lon + 0.0005, lat=lat)
    records, _ = _levels([labelled, unlabelled])
    assert records.block_topic[0] != records.block_topic[1] and records.topic[0] == records.topic[1]
    i, j = blocking.candidate_pairs(records, np.ones(2, bool))
    assert list(zip(i.tolist(), j.tolist())) == [(0, 1)]
    far_in_time = intake("K3", 60 * 24 * 60, "井盖破损松动", lon=lon + 0.0005, lat=lat)  # beyond the 45-day window
    records, _ = _levels([labelled, far_in_time])
    i, j = blocking.candidate_pairs(records, np.ones(2, bool))
    assert len(i) == 0


def test_a_110_calls_category_leaves_its_problem_text():
    from dedupe import records as records_mod
    from dedupe_testkit import intake, intake_table

    call = intake("110A", 0, "水电气热故障燃气管道被挖断", channel="110", category="水电气热故障")
    order = intake("O1", 10, "水电气热故障燃气管道被挖断")  # another channel's text keeps its words
    records = records_mod.prepare(intake_table([call, order]))
    problem = dict(zip(records.source_id, records.problem))
    assert problem["110A"] == "燃气管道被挖断"
    assert problem["O1"] == "水电气热故障燃气管道被挖断"

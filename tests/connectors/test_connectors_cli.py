import shutil

from connectors.cli import load_main
from connectors_testkit import SAMPLES, csv_110, query, row_110, write


def test_gongzhi_load_prints_a_summary_warns_on_the_dev_key_and_fails_on_a_rejected_delivery(
        tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    shutil.copytree(SAMPLES, home / "landing")
    monkeypatch.setenv("GONGZHI_HOME", str(home))
    monkeypatch.delenv("GONGZHI_PII_KEY", raising=False)
    assert load_main(["--channel", "110", "--channel", "hotline", "--channel", "petition"]) == 0
    captured = capsys.readouterr()
    assert "development key" in captured.err
    assert "110" in captured.out and "rows in 2, loaded 2" in captured.out
    assert query(home / "warehouse.duckdb", "SELECT count(*) FROM core.intake") == [(6,)]

    write(home / "landing" / "110" / "fjwjq_20240306.csv", csv_110([row_110(1)], trailer=None))
    assert load_main(["--channel", "110", "--day", "2024-03-06"]) == 1
    captured = capsys.readouterr()
    assert "FAILED delivery fjwjq_20240306.csv" in captured.err and "trailer" in captured.err


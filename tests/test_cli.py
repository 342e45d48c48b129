import json
import re
import shutil

import pytest
from click.testing import CliRunner

from kb.cli import main
from kb.settings import Settings

from tests.conftest import write_corpus


@pytest.fixture
def run(fake_model, tmp_path):
    def invoke(*args):
        return CliRunner().invoke(main, [*args, "--data", str(tmp_path / "data")], catch_exceptions=False)
    return invoke


def test_index_then_search_json(run, corpus):
    result = run("index", "--corpus", str(corpus))
    assert result.exit_code == 0, result.output
    assert "added 4, updated 0, removed 0, unchanged 0" in result.output
    out = json.loads(run("search", "coal district heating", "--json", "--k", "2").output)
    assert out["query"] == "coal district heating" and out["mode"] == "hybrid"
    assert [r["doc_id"] for r in out["results"]][0] == "heat"
    assert set(out["results"][0]) >= {"doc_id", "title", "kind", "city", "country", "domains", "score", "snippet"}


def test_index_json_summary_and_second_run(run, corpus):
    run("index", "--corpus", str(corpus))
    summary = json.loads(run("index", "--corpus", str(corpus), "--json").output)
    assert (summary["added"], summary["unchanged"], summary["errors"]) == (0, 4, [])


def test_a_broken_corpus_indexes_the_rest_and_exits_non_zero(run, tmp_path):
    root = write_corpus(tmp_path / "c", {"ok.md": "---\ntitle: OK\nkind: portal_resource\n---\nFine.\n",
                                         "bad.md": "---\ntitle: Bad\nkind: measure\ncity: X\n---\nBody\n"},
                        cities=None)
    result = run("index", "--corpus", str(root))
    assert result.exit_code == 1
    assert "bad.md:1: country: is required" in result.output
    assert "added 1" in result.output


def test_search_usage_errors_are_one_line_not_tracebacks(run, corpus):
    run("index", "--corpus", str(corpus))
    for args in (["   "], ["x" * 2000], ["heat", "--filter", "colour=red"], ["heat", "--filter", "nonsense"],
                 ["heat", "--k", "0"], ["heat", "--mode", "magic"]):
        result = run("search", *args)
        assert result.exit_code == 2, (args, result.output)
        assert "Error:" in result.output and "Traceback" not in result.output


def test_info_json_and_corpus_counts(run, corpus):
    run("index", "--corpus", str(corpus))
    info = json.loads(run("info", "--json").output)
    assert info["documents"] == 4 and info["index"]["state"] == "current"
    counts = json.loads(run("info", "--corpus", str(corpus), "--json").output)
    assert counts["by_kind"] == {"measure": 2, "portal_resource": 1, "workshop_output": 1}
    assert counts["by_domain"]["energy"] == 3 and counts["errors"] == []


def test_similar_and_eval(run, corpus, tmp_path):
    run("index", "--corpus", str(corpus))
    out = json.loads(run("similar", "heat", "--json", "--k", "2").output)
    assert out["doc_id"] == "heat" and len(out["results"]) == 2
    assert run("similar", "missing").exit_code == 2
    (tmp_path / "q.jsonl").write_text('{"_id": "1", "text": "free buses"}\n'
                                      '{"_id": "2", "text": "coal", "filters": {"kind": "measure"}}\n')
    (tmp_path / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\n1\tbus\t2\n2\theat\t1\n")
    result = run("eval", "--queries", str(tmp_path / "q.jsonl"), "--qrels", str(tmp_path / "qrels.tsv"),
                 "--mode", "keyword", "--run", str(tmp_path / "run.txt"), "--json")
    metrics = json.loads(result.output)
    assert metrics["queries"] == 2 and metrics["mrr@10"] == 1.0
    assert (tmp_path / "run.txt").read_text().startswith("1 Q0 bus 1 ")


def test_eval_takes_one_slice_and_half_and_refuses_an_empty_selection(run, corpus, tmp_path):
    run("index", "--corpus", str(corpus))
    (tmp_path / "q.jsonl").write_text('{"_id": "1", "text": "free buses", "slice": "own_words", "split": "dev"}\n'
                                      '{"_id": "2", "text": "coal", "slice": "own_words", "split": "test"}\n')
    (tmp_path / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\n1\tbus\t2\n2\theat\t1\n")
    args = ["eval", "--queries", str(tmp_path / "q.jsonl"), "--qrels", str(tmp_path / "qrels.tsv"), "--json"]
    assert json.loads(run(*args, "--split", "test").output)["queries"] == 1
    refused = run(*args, "--slice", "typos")
    assert refused.exit_code == 2 and "the slices are: own_words" in refused.output
    (tmp_path / "p.jsonl").write_text('{"_id": "p1", "twin": "Kozani", "challenge": "free buses", "pilots": ["Tallinn"],'
                                      ' "slice": "own_words", "split": "test"}\n')
    partners = run("eval-partners", str(tmp_path / "p.jsonl"), "--split", "test", "--json")
    assert json.loads(partners.output)["challenges"] == 1
    assert run("eval-partners", str(tmp_path / "p.jsonl"), "--split", "dev").exit_code == 2


@pytest.mark.parametrize(("variable", "value"), [("KB_QUERY_ENCODER", "fp16"), ("KB_INDEX", "hnsw"),
                                                 ("KB_PRECISION", "fp8"), ("KB_STORE", "mysql://db/kb")])
def test_a_bad_setting_is_refused_naming_it(run, monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    result = run("info")
    assert result.exit_code != 0 and f"{variable}={value!r}" in result.output


def test_serve_refuses_a_broken_data_folder_at_once_with_one_message(run, corpus, tmp_path):
    run("index", "--corpus", str(corpus))
    shutil.rmtree(tmp_path / "data" / "index")
    (tmp_path / "data" / "index").write_text("not a folder")
    result = run("serve", "--port", "1")  # would fail to bind if it got that far
    assert result.exit_code == 1
    assert "cannot serve" in result.output and "index" in result.output


@pytest.mark.sqlite_only  # copies the SQLite store of --data
def test_store_copy_moves_a_knowledge_base_to_postgresql_once_and_migrate_reports(run, corpus, pg_cluster,
                                                                                  monkeypatch, tmp_path):
    run("index", "--corpus", str(corpus))
    url = pg_cluster.new_database()
    copied = run("store", "copy", "--to", url)
    assert copied.exit_code == 0, copied.output
    assert "documents" in copied.output and "DIFFERENT" not in copied.output and "secret" not in copied.output
    assert f"copied into postgresql://127.0.0.1:{pg_cluster.port}/" in copied.output
    again = run("store", "copy", "--to", url)
    assert again.exit_code == 1 and "not empty" in again.output
    assert run("store", "copy", "--to", "sqlite:///x.db").exit_code == 2
    missing = CliRunner().invoke(main, ["store", "copy", "--to", url, "--data", str(tmp_path / "nothing")])
    assert missing.exit_code == 2 and "no knowledge base in" in missing.output
    assert not (tmp_path / "nothing").exists()
    monkeypatch.setenv("KB_STORE", url)
    migrated = run("migrate")
    assert migrated.exit_code == 0 and "schema up to date, 4 documents" in migrated.output
    assert json.loads(run("search", "coal district heating", "--json").output)["results"][0]["doc_id"] == "heat"


def test_backup_then_restore_into_a_new_folder_and_into_postgresql_searches_alike(run, corpus, pg_cluster, tmp_path):
    run("index", "--corpus", str(corpus))
    first = run("backup", str(tmp_path / "backups"), "--json")
    assert first.exit_code == 0, first.output
    made = json.loads(first.output)
    assert made["rows"] > 0 and made["tables"]["documents"]["rows"] == 4
    second = json.loads(run("backup", str(tmp_path / "backups"), "--keep", "1", "--json").output)
    assert second["removed"] == [made["backup"]]

    def restored(*args, data):
        return CliRunner().invoke(main, ["restore", second["backup"], *args, "--data", str(data)],
                                  catch_exceptions=False)

    into = restored(data=tmp_path / "restored")
    assert into.exit_code == 0 and "vector index rebuilt" in into.output, into.output
    url = pg_cluster.new_database()
    assert restored("--to", url, data=tmp_path / "pg-folder").exit_code == 0
    expected = json.loads(run("search", "coal district heating", "--json").output)["results"]
    for data, store in ((tmp_path / "restored", ""), (tmp_path / "pg-folder", url)):
        found = CliRunner(env={"KB_STORE": store}).invoke(
            main, ["search", "coal district heating", "--json", "--data", str(data)], catch_exceptions=False)
        assert json.loads(found.output)["results"] == expected
    again = restored(data=tmp_path / "restored")
    assert again.exit_code == 2 and "is not empty: restore into a new folder" in again.output
    assert restored("--to", url, data=tmp_path / "pg-folder-2").exit_code == 1  # the database is not empty
    nothing = CliRunner(env={"KB_STORE": ""}).invoke(main, ["backup", str(tmp_path / "b2"), "--data",
                                                      str(tmp_path / "nothing")])
    assert nothing.exit_code == 2 and "no knowledge base in" in nothing.output


def test_a_refused_restore_leaves_no_folder_and_an_unwritable_destination_fails_cleanly(run, corpus, tmp_path):
    run("index", "--corpus", str(corpus))
    made = json.loads(run("backup", str(tmp_path / "backups"), "--json").output)["backup"]
    with open(f"{made}/tables.sqlite3", "r+b") as data:
        data.truncate(4096)
    refused = CliRunner(env={"KB_STORE": ""}).invoke(main, ["restore", made, "--data", str(tmp_path / "new")])
    assert refused.exit_code == 1 and "truncated or changed" in refused.output
    assert not (tmp_path / "new").exists()  # a retry is not told the folder is not empty
    (tmp_path / "a-file").write_text("not a folder")
    unwritable = run("backup", str(tmp_path / "a-file" / "backups"))
    assert unwritable.exit_code == 1 and "cannot write the backup in" in unwritable.output


def test_a_city_added_by_command_gets_accounts_and_stands_on_the_map_and_in_the_explorer(run, corpus, tmp_path):
    from kb.knowledge_base import KnowledgeBase

    run("index", "--corpus", str(corpus))
    refused = run("users", "add", "lund", "--city", "Lund", "--role", "twin")
    assert refused.exit_code != 0 and "kb cities add Lund --country COUNTRY --role twin" in refused.output
    added = run("cities", "add", "Lund", "--country", "Sweden", "--role", "twin", "--cohort", "3", "--json")
    assert added.exit_code == 0, added.output
    lund = json.loads(added.output)
    assert lund["population"] > 80_000 and round(lund["lat"]) == 56 and "GeoNames" in lund["source"]
    assert run("users", "add", "lund", "--city", "Lund", "--role", "twin").exit_code == 0
    several = run("cities", "add", "Frankfurt", "--country", "Germany", "--role", "pilot")
    assert several.exit_code == 2 and "Frankfurt (Oder)" in several.output and "geonameid" in several.output
    oder = re.search(r"Frankfurt \(Oder\) \([\d,]+ people, [^)]*\): geonameid (\d+)", several.output).group(1)
    chosen = run("cities", "add", "Frankfurt", "--country", "Germany", "--role", "pilot", "--geonameid", oder)
    assert chosen.exit_code == 0 and "52.3" in chosen.output
    assert run("cities", "add", "Lund", "--country", "Narnia", "--role", "twin").exit_code == 2
    run("index", "--corpus", str(corpus))  # a sync of the corpus keeps them
    kb = KnowledgeBase.open(Settings.from_env(data=str(tmp_path / "data")))
    try:
        view = kb.explorer().view
        assert "Lund" in [row.twin.city for row in view.twins]
        assert {"Lund", "Frankfurt"} <= {place.city for place in view.map.places}
    finally:
        kb.close()


def test_insights_from_the_command_line_and_forgetting_the_search_log(run, corpus, tmp_path):
    from kb.insights import Asker
    from kb.knowledge_base import KnowledgeBase
    from kb.settings import Settings

    run("index", "--corpus", str(corpus))
    kb = KnowledgeBase.open(Settings.from_env(data=str(tmp_path / "data")))
    for text in ("zzqx vlorp", "zzqx vlorp", "coal district heating"):
        kb.search(text, k=5, asker=Asker("twin", "api"))
    kb.close()  # writes the log
    gaps = json.loads(run("insights", "gaps", "--json").output)
    assert [(g["label"], g["searches"]) for g in gaps["gaps"]] == [("zzqx vlorp", 2)]
    assert run("insights", "gaps", "--csv").output.splitlines()[0].startswith("searches,weak,label")
    reach = json.loads(run("insights", "reach", "--json").output)
    assert reach["searches"] == 3 and reach["roles"] == {"twin": 3}
    assert "No twin keeps a practice yet." in run("insights", "replication").output
    bad = CliRunner().invoke(main, ["insights", "gaps", "--since", "May", "--data", str(tmp_path / "data")])
    assert bad.exit_code == 2 and "since: 'May' is not a date; give it as YYYY-MM-DD" in bad.output
    assert run("insights", "forget").output.strip() == "0 search(es) deleted from the log"  # none is 180 days old
    assert run("insights", "forget", "--all").output.strip() == "3 search(es) deleted from the log"

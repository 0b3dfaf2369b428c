import csv
from pathlib import Path

import pytest

from concerto.core import codelists
from concerto.core.errors import InvalidInput


def test_every_shipped_file_is_in_the_manifest_with_its_source_and_licence():
    shipped = {p.name for p in codelists.SHIPPED_DIR.glob("*.csv")} - {"manifest.csv"}
    lists = codelists.read_manifest(codelists.SHIPPED_DIR)
    with (codelists.SHIPPED_DIR / "manifest.csv").open() as fh:
        files = {row["file"] for row in csv.DictReader(fh)}
    assert files == shipped
    for cl in lists.values():
        assert cl.version and cl.source and cl.licence, cl.name
        assert cl.system in codelists.SYSTEMS


def test_the_register_lists_have_their_published_sizes_and_remission_codes_sit_inside_mh_cod():
    mh = codelists.get("smi_mh_cod_pcd2025")
    remission = codelists.get("smi_mhrem_cod_pcd2025")
    assert len(mh.code_set) == 198 and len(remission.code_set) == 24
    assert remission.code_set <= mh.code_set
    assert "4926007" in remission  # Schizophrenia in remission


def test_clusters_can_be_read_from_multi_cluster_lists():
    smoking = codelists.get("phc_smoking_pcd2025")
    current = {c.code for c in smoking.cluster("LSMOK_COD")}
    assert "160603005" in current  # Light cigarette smoker
    with pytest.raises(KeyError, match="no cluster"):
        smoking.cluster("NOPE_COD")


def test_unknown_list_names_are_reported_with_the_known_names():
    with pytest.raises(KeyError, match="smi_mh_cod_pcd2025"):
        codelists.get("no_such_list")


def _site_folder(tmp_path: Path, rows: str, manifest_extra: str = "") -> Path:
    (tmp_path / "manifest.csv").write_text(
        "name,file,system,version,description\n"
        f"smoking_cessation_referral,smoking.csv,snomed-ct,site-1,Local list{manifest_extra}\n"
    )
    (tmp_path / "smoking.csv").write_text(rows)
    return tmp_path


def test_a_site_can_add_its_own_lists(tmp_path, monkeypatch):
    folder = _site_folder(tmp_path, "code,term\n315232003,Referral to stop-smoking clinic\n")
    monkeypatch.setenv("CONCERTO_EXTRA_CODELISTS", str(folder))
    codelists.all_codelists.cache_clear()
    try:
        site = codelists.get("smoking_cessation_referral")
        assert "315232003" in site and site.version == "site-1"
        assert codelists.get("smi_mh_cod_pcd2025")  # shipped lists are still there
    finally:
        codelists.all_codelists.cache_clear()


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("code,description\n1,x\n", "must start with columns code,term"),
        ("code,term\nabc,Not a code\n", "line 2: code 'abc' is not"),
        ("code,term\n", "empty"),
    ],
)
def test_bad_site_lists_are_refused_with_the_line_at_fault(tmp_path, rows, message):
    folder = _site_folder(tmp_path, rows)
    with pytest.raises(InvalidInput, match=message):
        codelists.read_manifest(folder)


def test_loading_into_the_database_is_idempotent(db):
    from concerto.core.actions import load_codelists
    from concerto.core.models import CodeListEntry, CodeListVersion

    load_codelists()
    counts = (CodeListVersion.objects.count(), CodeListEntry.objects.count())
    load_codelists()
    assert (CodeListVersion.objects.count(), CodeListEntry.objects.count()) == counts
    mh = CodeListVersion.objects.get(name="smi_mh_cod_pcd2025")
    assert mh.entries.count() == 198

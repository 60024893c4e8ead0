"""The Genome page through streamlit.testing.v1.AppTest (the script runs; igv.js does not): the files it serves
live in a random per-session folder under dashboard/static/sessions/, two sessions never share one, and the igv.js
options point only at that folder (relative app/static/ addresses, no default genomes, no search service)."""

import shutil
from pathlib import Path

import pytest
from app_charts import dashboard_app

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "dashboard" / "static"


@pytest.mark.slow
def test_genome_page_serves_per_session_files_only():

    from core.io.sequences import read_fasta
    from core.paths import SAMPLE_DATA

    if not (STATIC / "igv.min.js").exists():
        pytest.skip("igv.min.js is not installed (make js)")
    folders, views = [], []
    for _ in range(2):
        at = dashboard_app(300)
        at.run()
        at.switch_page("views/genome.py").run()
        assert not at.exception, [e.value for e in at.exception]
        token, view = at.session_state["genome_token"], at.session_state["genome_view"]
        folders.append(STATIC / "sessions" / token / at.session_state["genome_view_key"])
        views.append(view.options)
    try:
        assert folders[0].parent != folders[1].parent  # a random folder per session
        for folder, opts in zip(folders, views):
            prefix = "app/static/sessions/" + folder.parent.name + "/" + folder.name + "/"
            urls = [opts["reference"]["fastaURL"], opts["reference"]["indexURL"]] + [t["url"] for t in opts["tracks"]]
            assert all(u.startswith(prefix) for u in urls), urls
            assert opts["loadDefaultGenomes"] is False and opts["search"] is False
            assert {t["name"] for t in opts["tracks"]} == {"loaded sequences", "attention"}
            for u in urls:
                assert (folder / u[len(prefix) :]).is_file()
        seqs = read_fasta(SAMPLE_DATA / "demo.fa")
        text = (folders[0] / "reference.fa").read_text()
        assert text.startswith(f">{seqs[0].id}\n{seqs[0].seq[:60]}")
    finally:
        for f in folders:
            shutil.rmtree(f.parent, ignore_errors=True)

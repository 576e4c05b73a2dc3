"""Loading sources: one named graph per file, whatever the syntax."""

from __future__ import annotations

from rdflib import Dataset, URIRef

from kg.sources.load import load_file


def test_trig_triples_outside_graph_blocks_go_to_the_files_own_graph(tmp_path):
    path = tmp_path / "mixed.trig"
    path.write_text("@prefix ex: <http://ex/> .\nex:a ex:b ex:c .\nex:g { ex:d ex:e ex:f . }\n")
    ds = Dataset()
    loaded = load_file(ds, path)
    assert loaded.triples == 2
    assert (URIRef("http://ex/a"), URIRef("http://ex/b"), URIRef("http://ex/c")) in ds.graph(loaded.graph)
    assert len(ds.graph(URIRef("http://ex/g"))) == 1
    assert len(ds.default_graph) == 0
    assert loaded.declared == (URIRef("http://ex/g"),)

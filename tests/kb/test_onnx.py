import hashlib
import json

from kb.embedding.onnx import FORMAT, MANIFEST_FILE, current, reduced_range


def _export(directory, key="model@sha", variants=("fp32",)):
    directory.mkdir()
    (directory / "model.onnx").write_bytes(b"graph")
    sha = hashlib.sha256(b"graph").hexdigest()
    manifest = {"key": key, "format": FORMAT, "reduce_range": reduced_range(),
                "variants": {v: {"sha256": sha} for v in variants}}
    (directory / MANIFEST_FILE).write_text(json.dumps(manifest))
    return directory


def test_an_export_is_current_only_for_its_model_its_variants_and_its_bytes(tmp_path):
    export = _export(tmp_path / "onnx")
    assert current(export, "model@sha", "fp32") is not None
    assert current(export, "another@sha", "fp32") is None
    assert current(export, "model@sha", "int8") is None  # never made
    (export / "model.onnx").write_bytes(b"graph, changed")
    assert current(export, "model@sha", "fp32") is None


def test_a_missing_or_unreadable_manifest_means_no_export(tmp_path):
    export = _export(tmp_path / "onnx")
    (export / MANIFEST_FILE).write_text("{not json")
    assert current(export, "model@sha", "fp32") is None
    assert current(tmp_path / "nowhere", "model@sha", "fp32") is None


def test_an_export_made_another_way_is_made_again(tmp_path):
    export = _export(tmp_path / "onnx")
    manifest = json.loads((export / MANIFEST_FILE).read_text())
    (export / MANIFEST_FILE).write_text(json.dumps({**manifest, "format": FORMAT - 1}))
    assert current(export, "model@sha", "fp32") is None


def test_an_export_made_for_a_cpu_of_the_other_kind_is_made_again(tmp_path):
    """int8 weights keep to 7 bits where the CPU lacks VNNI (kb/embedding/onnx.py `reduced_range`):
    a data folder moved between such machines remakes its export."""
    export = _export(tmp_path / "onnx")
    manifest = json.loads((export / MANIFEST_FILE).read_text())
    (export / MANIFEST_FILE).write_text(json.dumps({**manifest, "reduce_range": not reduced_range()}))
    assert current(export, "model@sha", "fp32") is None

"""`debrief bench --quick` runs every part on tiny sizes and writes well-formed JSON (no timing assertions)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from assistant.bench import BenchResult, PooledEmbedder, points
from assistant.cli import app
from assistant.speech import SAMPLE_RATE, clip


def _bench(settings, tmp_path, monkeypatch, only: str) -> BenchResult:
    monkeypatch.setattr("assistant.cli.measure.get_settings", lambda: settings)
    out = tmp_path / "results.json"
    done = CliRunner().invoke(app, ["bench", "--quick", "--only", only, "--output", str(out)])
    assert done.exit_code == 0, done.output
    result = BenchResult.model_validate_json(out.read_text("utf-8"))
    assert [p.part for p in result.parts] == only.replace("end_to_end", "end to end").split(",")
    for part in result.parts:
        assert part.error is None, part.details.get("traceback")
        assert part.figures and all(f.value is not None and f.value > 0 for f in part.figures)
    return result


def test_quick_bench_of_speech_index_and_memory_writes_every_figure_with_reference_and_target(settings, tmp_path, monkeypatch):
    result = _bench(settings, tmp_path, monkeypatch, "transcription,transcription_server,index,memory")
    assert result.quick and result.machine["cpu_count"]
    speed = result.parts[0].figures[0]
    assert speed.reference and speed.ratio and speed.target and speed.met is not None
    assert {"beam_size", "compute_type", "threads"} <= set(result.parts[0].details)
    server = result.parts[1]  # the same clip through the tests' transcription server and in-process
    assert server.figures[0].reference and "10%" in server.figures[0].target and server.figures[0].met is not None
    assert server.details["requests_sent"] == 2 and server.details["wer_server_vs_in_process"] == 0.0
    growth = result.parts[2].details["growth"][0]
    assert growth["points"] == 100 and growth["p95_cases_filtered_ms"] > 0  # what the chat asks, timed too
    assert result.parts[3].figures[0].unit == "MB"


@pytest.mark.real_llm
def test_quick_bench_of_drafting_end_to_end_and_chat_with_the_real_models(settings, tmp_path, monkeypatch):
    result = _bench(settings, tmp_path, monkeypatch, "drafting,end_to_end,chat")
    drafting, end_to_end, chat = result.parts
    assert drafting.details["short_calls"] >= 1 and drafting.details["long_words"] >= 200
    assert end_to_end.details["segments"] >= 1
    moments = {f.name: f for f in chat.figures}
    shown, first, total = (moments[name].value for name in
                           ("time to sources shown", "time to first cited sentence", "total time, cited answer"))
    assert shown <= first <= total  # the sources come before the answer, which ends last
    assert all(f.reference for f in chat.figures)
    assert chat.details["citations_median"] >= 1


def test_an_unknown_part_is_refused(tmp_path):
    done = CliRunner().invoke(app, ["bench", "--quick", "--only", "teleport", "--output", str(tmp_path / "r.json")])
    assert done.exit_code != 0


def test_generated_clip_has_the_asked_length_and_is_not_silent():
    audio = clip(2.5)
    assert len(audio) == int(2.5 * SAMPLE_RATE)
    assert np.abs(audio).max() > 0.05


class _Unit:
    model_id = "unit"

    def embed_passages(self, texts):
        rng = np.random.default_rng(len(texts))
        rows = rng.normal(size=(len(texts), 8)).astype(np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    embed_queries = embed_passages


def test_pooled_embedder_gives_distinct_unit_vectors_near_their_pool_text():
    batch = points(30, pool_size=10)
    pool = sorted({p.text.rpartition(" #")[0] for p in batch})
    embedder = PooledEmbedder(_Unit(), pool)
    rows = embedder.embed_passages([p.text for p in batch])
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    assert len({r.tobytes() for r in rows}) == 30
    same_pool = [i for i, p in enumerate(batch) if p.text.startswith(batch[0].text.rpartition(" #")[0] + " #")]
    assert float(rows[same_pool[0]] @ rows[same_pool[1]]) > 0.9
    assert json.loads(batch[0].model_dump_json())["sector"] in {"hospital", "municipality", "general_practice"}

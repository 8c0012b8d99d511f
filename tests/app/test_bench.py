"""Benchmark plumbing: which cases run, the 26 GB skip, and the shared markdown file kept intact."""

from __future__ import annotations

import pytest

from magiceraser import bench
from magiceraser.bench import (
    Case,
    Outcome,
    legacy_skip_reason,
    main,
    plan_cases,
    render,
    send_back_note,
    write_section,
)
from rvforge.errors import ForgeError
from rvforge.tasks.bench import bench_command


def test_plan_has_both_methods_per_size_and_one_full_frame_run():
    cases = plan_cases([(1280, 720), (1920, 1080)], [True, False], 3)
    assert [(c.method, c.width, c.mkldnn) for c in cases[:2]] == [("2024", 1280, True), ("engine", 1280, True)]
    assert len(cases) == 9
    assert cases[-1] == Case("full-frame", 1920, 1080, False, 1, warm_up=False)


def test_legacy_method_at_1080p_without_onednn_is_not_run():
    assert legacy_skip_reason(Case("2024", 1920, 1080, False)) == "needs ~26 GB (im2col), not run"
    assert legacy_skip_reason(Case("2024", 1920, 1080, True)) is None
    assert legacy_skip_reason(Case("engine", 1920, 1080, False)) is None


def test_section_replaced_in_place_and_other_sections_kept(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n## Builds\nkeep me\n\n## Eraser engine\nold numbers\n\n"
                   "### How the defaults were chosen\nnotes\n\n## Deploy\nkeep too\n")
    outcomes = [Outcome(Case("2024", 640, 360, False), [30.0, 32.0, 31.0], 3400.0),
                Outcome(Case("engine", 640, 360, False), [1.0, 1.5, 2.0], 700.0)]
    write_section(doc, render(outcomes, "magiceraser bench --quick"))
    text = doc.read_text()
    assert "old numbers" not in text and "keep me" in text and "keep too" in text
    assert text.index("20.7x") < text.index("### How the defaults were chosen\nnotes") < text.index("## Deploy")
    assert text.index("## Builds") < text.index("## Eraser engine") < text.index("## Deploy")
    assert "| off | 640x360 | this engine (crop, all threads) | 3 | 1.50 | 700 | 20.7x |" in text


def test_invoke_bench_validates_sizes(tmp_path):
    cmd = bench_command("1280x720, 1920X1080", True, tmp_path / "b.md")
    assert cmd[-3:] == ["--sizes", "1280x720,1920x1080", "--quick"]
    with pytest.raises(ForgeError, match="--sizes: expected WxH"):
        bench_command("big", False, tmp_path / "b.md")
    cmd = bench_command(None, False, tmp_path / "b.md", model=str(tmp_path), threads="2", mkldnn="off")
    assert cmd[-6:] == ["--model", str(tmp_path), "--threads", "2", "--mkldnn", "off"]
    for bad, message in [({"model": str(tmp_path / "none")}, "no such file"),
                         ({"threads": "0"}, "--threads: expected an integer >= 1"),
                         ({"mkldnn": "maybe"}, "--mkldnn: expected one of: on, off, both")]:
        with pytest.raises(ForgeError, match=message):
            bench_command(None, False, tmp_path / "b.md", **bad)


def test_threads_and_model_reach_every_case():
    cases = plan_cases([(640, 360)], [False], 1, threads=3, model="/models/big-lama")
    assert {(c.threads, c.model) for c in cases} == {(3, "/models/big-lama")}


def test_bench_times_a_given_model_with_the_serve_flags(lama_reference, tmp_path, monkeypatch, capsys):
    """--model / --threads / --no-mkldnn as for `magiceraser serve`; each case still runs in its own
    process. On riscv64 (the laptop, pretended here) it says what to send back."""
    out, data = tmp_path / "bench.md", tmp_path / "bench.json"
    monkeypatch.setattr(bench.platform, "machine", lambda: "riscv64")
    assert main(["--quick", "--model", str(lama_reference / "tiny-lama"), "--threads", "1", "--no-mkldnn",
                 "--output", str(out), "--json", str(data)]) == 0
    text = out.read_text()
    assert f"model: `{(lama_reference / 'tiny-lama').resolve()}`" in text
    rows = [line for line in text.splitlines() if line.startswith("| off | 640x360 |")]
    assert len(rows) == 3 and not any("failed" in row for row in rows)
    printed = capsys.readouterr().out.splitlines()
    assert printed[-1] == send_back_note("riscv64", out, data)
    assert f"section written to {out} and {data}" in printed[-1]


def test_only_riscv64_is_asked_to_send_its_numbers_back(tmp_path):
    assert send_back_note("x86_64", tmp_path / "b.md", None) is None
    assert "the section printed above (with --json FILE" in str(send_back_note("riscv64", None, None))


def test_bench_reports_a_bad_model_in_words(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--quick", "--model", str(tmp_path / "missing.pt")])
    assert exit_info.value.code == 2 and "no such file or directory" in capsys.readouterr().err
    corrupt = tmp_path / "big-lama.pt"
    corrupt.write_bytes(b"not a model")
    assert main(["--quick", "--model", str(corrupt)]) == 1
    printed = capsys.readouterr().out
    assert "failed: " + str(corrupt) + ": not a readable model file" in printed and "Traceback" not in printed
    with pytest.raises(SystemExit):
        main(["--threads", "0"])
    assert "at least 1" in capsys.readouterr().err

"""Docs that cannot drift: generated pages match their generators; hand-written pages are
checked where a test can check them. Regenerate with `make docs` and review the diff."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from consent_audit import docs_gen, manifest
from consent_audit.cli import app
from consent_audit.evaluate.registry import registry

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
STALE = "is stale: run `make docs` (python -m consent_audit.docs_gen {topic} > {path})"


@pytest.mark.parametrize("topic", sorted(docs_gen.TOPICS))
def test_generated_doc_is_current(topic: str) -> None:
    path, generate = docs_gen.TOPICS[topic]
    committed = (ROOT / path).read_text(encoding="utf-8")
    assert committed == generate(), f"{path} " + STALE.format(topic=topic, path=path)


def test_docs_gen_command_prints_the_page() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "consent_audit.docs_gen", "findings"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert proc.stdout == (DOCS / "findings.md").read_text(encoding="utf-8")


def test_docs_gen_usage_error() -> None:
    assert docs_gen.main(["nope"]) == 2


def test_findings_doc_covers_every_code_with_every_field() -> None:
    text = (DOCS / "findings.md").read_text(encoding="utf-8")
    sections = re.split(r"^## ", text, flags=re.M)[1:]
    by_code = {s.split("\n", 1)[0].strip(): s for s in sections}
    by_code = {code: s for code, s in by_code.items() if code.isupper()}
    assert sorted(by_code) == sorted(registry())
    for code, spec in registry().items():
        section = by_code[code]
        for label in ("Meaning", "Severity", "Likely causes", "Admin center", "Fix"):
            assert f"**{label}:**" in section, (code, label)
        assert spec.portal_path in section
        if spec.severity_note:
            assert spec.severity_note in section


def test_every_finding_code_has_a_fix_summary() -> None:
    raw = docs_gen._raw_registry()
    missing = [code for code, meta in raw.items() if not str(meta.get("fix", "")).strip()]
    assert missing == [], f"add fix = '...' to data/findings.toml for {missing}"


def _manifest_keys() -> set[str]:
    keys = {k for k in manifest._TOP_KEYS if k not in {"app", "resource", "feature"}}
    keys |= {f"app.{k}" for k in manifest._APP_KEYS}
    keys |= {f"resource.{k}" for k in manifest._RESOURCE_KEYS}
    keys |= {f"feature.{k}" for k in manifest._FEATURE_KEYS}
    return keys


def test_manifest_doc_documents_every_key() -> None:
    text = (DOCS / "manifest.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_.]+)` \|", text, flags=re.M))
    assert documented == _manifest_keys()


def _toml_blocks(text: str) -> list[str]:
    return re.findall(r"^```toml\n(.*?)^```", text, flags=re.M | re.S)


def test_manifest_doc_example_is_the_bundled_manifest_and_validates(tmp_path: Path) -> None:
    blocks = _toml_blocks((DOCS / "manifest.md").read_text(encoding="utf-8"))
    assert len(blocks) == 1
    bundled = ROOT / "src" / "consent_audit" / "data" / "manifest.toml"
    assert blocks[0] == bundled.read_text(encoding="utf-8")
    path = tmp_path / "example.toml"
    path.write_text(blocks[0], encoding="utf-8")
    result = CliRunner().invoke(app, ["manifest", "validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "valid" in result.stdout


def test_testing_doc_names_only_paths_that_exist() -> None:
    text = (DOCS / "testing.md").read_text(encoding="utf-8")
    paths = set(re.findall(r"`((?:tests|examples|docs)/[\w./-]*)`", text))
    assert paths
    for rel in sorted(paths):
        assert (ROOT / rel.rstrip("/")).exists(), f"docs/testing.md names {rel}, which is gone"


@pytest.mark.parametrize(
    "name", ["findings.md", "manifest.md", "support-playbook.md", "html-report.md"]
)
def test_readme_links_the_doc(name: str) -> None:
    assert f"docs/{name}" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_registry_reads_the_parsed_copy_only_when_made_from_these_files(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """findings.json (``make docs``) spares every run a TOML parse; a copy made from other
    text (an edited findings.toml or mechanisms.toml) is never used: the TOML is parsed."""
    from importlib import resources

    from consent_audit.evaluate import registry as reg

    toml = resources.files("consent_audit.data").joinpath("findings.toml").read_text("utf-8")
    parsed = reg.parse_findings(toml)
    parses: list[int] = []

    def counting(text: str) -> dict[str, object]:
        parses.append(len(text))
        return parsed

    monkeypatch.setattr(reg, "parse_findings", counting)
    assert reg._raw_findings() == parsed
    assert parses == []  # the committed copy matches the files: no parse
    monkeypatch.setattr(reg, "source_digest", lambda findings, mechanisms: "made from other text")
    assert reg._raw_findings() == parsed
    assert parses == [len(toml)]

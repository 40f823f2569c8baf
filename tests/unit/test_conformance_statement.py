"""docs/conformance-statement.md is what the code's tables say (PS3.2): regenerating it
changes nothing, and what it lists is what the code serves."""

from __future__ import annotations

from pathlib import Path

from cloudpacs.cli import main
from cloudpacs.conformance.command import current_statement
from cloudpacs.security.permissions import Role
from dimse_bridge import contexts

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "conformance-statement.md"


def test_the_committed_statement_is_the_code_s() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == current_statement(), (
        "docs/conformance-statement.md is stale: run 'make conformance'"
    )


def test_it_lists_what_the_bridge_and_the_server_serve() -> None:
    text = current_statement()
    for uid in (*contexts.STORAGE_SOP_CLASSES, *contexts.QR_MODELS, contexts.VERIFICATION):
        assert f"`{uid}`" in text
    for uid in contexts.STORAGE_TRANSFER_SYNTAXES:
        assert f"`{uid}`" in text
    for path in ("/dicom-web/studies", "/api/v1/patients", "/research/dicom-web/studies"):
        assert f"`{path}`" in text
    for role in Role:
        assert f"| {role.value} |" in text


def test_check_fails_on_a_stale_file(tmp_path: Path) -> None:
    target = tmp_path / "statement.md"
    assert main(["conformance", "--output", str(target)]) == 0
    assert main(["conformance", "--output", str(target), "--check"]) == 0
    target.write_text(target.read_text(encoding="utf-8").replace("11112", "104"))
    assert main(["conformance", "--output", str(target), "--check"]) == 1

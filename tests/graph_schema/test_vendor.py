"""vendor.py extracts the subset from a git copy of msgraph-metadata and records its source.

A miniature metadata repository (two commits, the CSDLs in Microsoft's format) stands in for
microsoftgraph/msgraph-metadata, which is not on this machine during tests.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.graph_schema import vendor

HEAD = """<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
  <edmx:DataServices>
    <Schema Namespace="microsoft.graph" Alias="graph" xmlns="http://docs.oasis-open.org/odata/ns/edm">
      <EnumType Name="conditionalAccessPolicyState">
        <Member Name="enabled" Value="0" />
        <Member Name="disabled" Value="1" />
        <Member Name="enabledForReportingButNotEnforced" Value="2" />
      </EnumType>
      <EnumType Name="unrelatedEnum"><Member Name="x" Value="0" /></EnumType>
      <EntityType Name="entity" Abstract="true">
        <Key><PropertyRef Name="id" /></Key>
        <Property Name="id" Type="Edm.String" Nullable="false" />
      </EntityType>
      <EntityType Name="conditionalAccessPolicy" BaseType="graph.entity">
        <Property Name="displayName" Type="Edm.String" />
        <Property Name="state" Type="graph.conditionalAccessPolicyState" Nullable="false" />
        <Property Name="sessionControls" Type="graph.sessionBlock" />
        {extra}
      </EntityType>
      <ComplexType Name="sessionBlock">
        <Property Name="values" Type="Collection(Edm.String)" Nullable="false" />
      </ComplexType>
      <ComplexType Name="sessionBlockForApps" BaseType="graph.sessionBlock">
        <Property Name="appType" Type="Edm.String" />
      </ComplexType>
      <EntityType Name="unrelated" BaseType="graph.entity">
        <Property Name="state" Type="graph.unrelatedEnum" />
      </EntityType>
      <EntityType Name="identityContainer" BaseType="graph.entity">
        <NavigationProperty Name="conditionalAccess" Type="graph.conditionalAccessRoot" />
      </EntityType>
      <EntityType Name="conditionalAccessRoot" BaseType="graph.entity">
        <NavigationProperty Name="policies" Type="Collection(graph.conditionalAccessPolicy)" />
      </EntityType>
      <EntityContainer Name="GraphService">
        <Singleton Name="identity" Type="microsoft.graph.identityContainer" />
        <EntitySet Name="unrelateds" EntityType="microsoft.graph.unrelated" />
      </EntityContainer>
    </Schema>
  </edmx:DataServices>
</edmx:Edmx>
"""


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@pytest.fixture
def metadata(tmp_path: Path) -> Path:
    """A metadata repository whose second commit adds a beta-only property."""
    repo = tmp_path / "msgraph-metadata"
    (repo / "schemas").mkdir(parents=True)
    _git(repo, "init", "--quiet")
    (repo / "schemas" / "v1.0-Prod.csdl").write_text(HEAD.format(extra=""))
    (repo / "schemas" / "beta-Prod.csdl").write_text(HEAD.format(extra=""))
    _git(repo, "add", "--all")
    _git(repo, "commit", "--quiet", "-m", "one")
    beta_only = '<Property Name="betaOnly" Type="Edm.Boolean" />'
    (repo / "schemas" / "beta-Prod.csdl").write_text(HEAD.format(extra=beta_only))
    _git(repo, "commit", "--quiet", "-am", "two")
    return repo


def test_the_subset_keeps_what_the_tool_touches_with_its_source(metadata: Path) -> None:
    data = vendor.vendor(metadata / ".git", "HEAD", None)
    source = data["source"]
    assert source["repository"] == "microsoftgraph/msgraph-metadata"
    assert source["commit"] == _git(metadata, "rev-parse", "HEAD")
    assert source["v1.0"] == {
        "path": "schemas/v1.0-Prod.csdl",
        "blob": _git(metadata, "rev-parse", "HEAD:schemas/v1.0-Prod.csdl"),
    }
    v1 = data["versions"]["v1.0"]
    assert v1["types"]["conditionalAccessPolicy"] == {
        "kind": "entity",
        "base": "entity",
        "properties": {
            "displayName": ["Edm.String", True],
            "sessionControls": ["sessionBlock", True],
            "state": ["conditionalAccessPolicyState", False],
        },
    }
    assert v1["types"]["entity"]["abstract"] is True
    assert v1["types"]["sessionBlockForApps"]["base"] == "sessionBlock"  # derived, kept
    assert v1["enums"]["conditionalAccessPolicyState"]["members"] == [
        "enabled",
        "disabled",
        "enabledForReportingButNotEnforced",
    ]
    assert "unrelated" not in v1["types"]
    assert "unrelatedEnum" not in v1["enums"]
    assert v1["container"]["identity"] == "identityContainer"
    assert v1["types"]["identityContainer"]["navigation"] == {
        "conditionalAccess": "conditionalAccessRoot"
    }
    assert "betaOnly" not in v1["types"]["conditionalAccessPolicy"]["properties"]
    beta = data["versions"]["beta"]["types"]["conditionalAccessPolicy"]["properties"]
    assert beta["betaOnly"] == ["Edm.Boolean", True]
    older = vendor.vendor(metadata / ".git", "HEAD~1", None)
    assert (
        "betaOnly"
        not in older["versions"]["beta"]["types"]["conditionalAccessPolicy"]["properties"]
    )


def test_the_written_file_round_trips(metadata: Path, tmp_path: Path) -> None:
    out = tmp_path / "subset.json"
    assert vendor.main(["--metadata-git", str(metadata / ".git"), "-o", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data == json.loads(json.dumps(vendor.vendor(metadata / ".git", "HEAD", None)))


def test_a_copy_without_the_beta_csdl_needs_the_typings(metadata: Path, tmp_path: Path) -> None:
    _git(metadata, "rm", "--quiet", "schemas/beta-Prod.csdl")
    _git(metadata, "commit", "--quiet", "-m", "beta left out")
    with pytest.raises(SystemExit, match="pass --beta-typings"):
        vendor.vendor(metadata / ".git", "HEAD", None)
    package = tmp_path / "package"
    package.mkdir()
    (package / "package.json").write_text(
        json.dumps({"name": "@microsoft/microsoft-graph-types-beta", "version": "9.9.9"})
    )
    typings = package / "microsoft-graph.d.ts"
    typings.write_text(
        'export type ConditionalAccessPolicyState = "enabled" | "disabled";\n'
        "export interface Entity {\n    id?: string;\n}\n"
        "export interface ConditionalAccessPolicy extends Entity {\n"
        "    displayName?: NullableOption<string>;\n"
        "    state?: ConditionalAccessPolicyState;\n"
        "    betaOnly?: NullableOption<boolean>;\n"
        "    owners?: NullableOption<Entity[]>;\n"
        "}\n"
    )
    data = vendor.vendor(metadata / ".git", "HEAD", typings)
    used = data["source"]["beta"]["used"]
    assert used["package"] == "npm @microsoft/microsoft-graph-types-beta@9.9.9"
    assert len(used["sha256"]) == 64
    beta = data["versions"]["beta"]
    assert beta["types"]["conditionalAccessPolicy"]["properties"] == {
        "betaOnly": ["Edm.Boolean", True],
        "displayName": ["string", True],
        "state": ["conditionalAccessPolicyState", False],
    }
    assert beta["types"]["conditionalAccessPolicy"]["navigation"] == {
        "owners": "Collection(entity)"
    }
    assert beta["enums"]["conditionalAccessPolicyState"]["members"] == ["enabled", "disabled"]

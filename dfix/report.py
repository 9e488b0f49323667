"""What dfix found, in the formats people and machines read."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import dfix
from dfix.rules import ALL_RULES, Rule

FORMATS = ("text", "json", "sarif", "github")


@dataclass(frozen=True)
class Finding:
    """One diagnostic, as plain data (it crosses process boundaries)."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    id: str
    name: str
    message: str
    #: "safe", "unsafe", "display-only", or None without a fix
    fix: str | None = None
    #: the fix would be applied with the current settings
    fixable: bool = False


@dataclass
class FileReport:
    """What happened to one file."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    #: the text before and after fixing, when fixes were computed
    old: str | None = None
    new: str | None = None
    applied: list[str] = field(default_factory=list)
    unsafe_applied: list[str] = field(default_factory=list)
    #: "PATH:LINE:COL: error: ..." lines
    errors: list[str] = field(default_factory=list)
    #: "PATH:LINE:COL: warning: ..." lines (a malformed pragma): shown, but not an error
    warnings: list[str] = field(default_factory=list)
    #: the fixed text is in the file (only the parent process writes)
    written: bool = False
    #: the files the fixes create beside it: absolute path -> text
    files: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return (self.new is not None and self.new != self.old) or bool(self.files)


def text_line(finding: Finding) -> str:
    marker = " [*]" if finding.fixable else ""
    return f"{finding.path}:{finding.line}:{finding.column}: {finding.id}{marker} {finding.message}"


def json_report(findings: list[Finding]) -> str:
    return json.dumps([asdict(finding) for finding in findings], indent=2, ensure_ascii=False) + "\n"


def github_report(findings: list[Finding]) -> str:
    """GitHub Actions workflow commands: one annotation per finding."""
    lines = []
    for f in findings:
        properties = (
            f"title={_property(f'dfix ({f.id})')},file={_property(f.path)},line={f.line},col={f.column},"
            f"endLine={f.end_line},endColumn={f.end_column}"
        )
        lines.append(f"::warning {properties}::{_data(f'{f.id} {f.message}')}\n")
    return "".join(lines)


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def sarif_report(findings: list[Finding], rules: tuple[Rule, ...] = ALL_RULES) -> str:
    """SARIF 2.1.0, for code scanning tools."""
    used = sorted({f.id for f in findings})
    index = {rule_id: number for number, rule_id in enumerate(used)}
    described = {rule.id: rule for rule in rules}
    driver_rules = [
        {
            "id": rule_id,
            "name": described[rule_id].name,
            "shortDescription": {"text": described[rule_id].summary},
            "fullDescription": {"text": described[rule_id].explanation},
            "help": {"text": described[rule_id].explanation},
            "properties": {"fix": described[rule_id].fix.value},
        }
        for rule_id in used
        if rule_id in described
    ]
    results = [
        {
            "ruleId": f.id,
            "ruleIndex": index[f.id],
            "level": "warning",
            "message": {"text": f.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.path.replace("\\", "/")},
                        "region": {
                            "startLine": f.line,
                            "startColumn": f.column,
                            "endLine": f.end_line,
                            "endColumn": f.end_column,
                        },
                    }
                }
            ],
            "properties": {"fix": f.fix, "fixable": f.fixable},
        }
        for f in findings
    ]
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "dfix",
                        "version": dfix.__version__,
                        "informationUri": "https://pypi.org/project/dfix/",
                        "rules": driver_rules,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def rules_table(rules: tuple[Rule, ...]) -> str:
    """``--list-rules``: id, name, fix, whether on by default, summary."""
    rows = [("ID", "NAME", "FIX", "DEFAULT", "SUMMARY")]
    rows += [(r.id, r.name, r.fix.value, "on" if r.default else "off", r.summary) for r in rules]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths)) + "  " + row[4] + "\n" for row in rows
    )


def rules_markdown(rules: tuple[Rule, ...]) -> str:
    """The rule table of the README."""
    rows = ["| id | name | fix | default | what |", "|---|---|---|---|---|"]
    rows += [f"| {r.id} | {r.name} | {r.fix.value} | {'on' if r.default else 'off'} | {r.summary} |" for r in rules]
    return "\n".join(rows) + "\n"

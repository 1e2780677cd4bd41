"""`make audit`, the dependencies' half: pip-audit over the locked versions
(requirements/constraints.txt), against PyPI's vulnerability data.

Exits 0 only when every locked package was looked up and none has a known vulnerability
other than those waived in requirements/audit-waivers.txt, each with its reason and an
expiry date. Exits 1 for a vulnerability or an expired waiver, and 2 when packages could
not be looked up (no route to the vulnerability database, as on a machine that reaches
only a package index): then nothing is claimed about them.

    python scripts/audit_dependencies.py
"""

import datetime
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCKED = ROOT / "requirements" / "constraints.txt"
WAIVERS = ROOT / "requirements" / "audit-waivers.txt"


def waivers(today: datetime.date) -> tuple[dict[str, str], list[str]]:
    """{vulnerability id: reason} still in force, and the lines of expired ones.
    A line: `<id> <expires YYYY-MM-DD> <reason>`; `#` starts a comment."""
    active: dict[str, str] = {}
    expired: list[str] = []
    for line in WAIVERS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        vulnerability, expires, reason = line.split(maxsplit=2)
        if datetime.date.fromisoformat(expires) < today:
            expired.append(f"{vulnerability} (expired {expires}): {reason}")
        else:
            active[vulnerability] = reason
    return active, expired


def main() -> int:
    active, expired = waivers(datetime.date.today())
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "--requirement",
        str(LOCKED),
        "--no-deps",  # the file pins every package, dependencies included
        "--disable-pip",
        "--format",
        "json",
        "--progress-spinner",
        "off",
        *(argument for vulnerability in active for argument in ("--ignore-vuln", vulnerability)),
    ]
    run = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        print(run.stderr or run.stdout, file=sys.stderr)
        print("pip-audit did not produce a report: the dependencies were NOT audited.")
        return 2
    dependencies = report["dependencies"]
    skipped = [d for d in dependencies if "skip_reason" in d]
    found = [(d, v) for d in dependencies for v in d.get("vulns", [])]

    for dependency, vulnerability in found:
        fixed = ", ".join(vulnerability.get("fix_versions", [])) or "no fixed version yet"
        print(
            f"VULNERABLE {dependency['name']} {dependency['version']}: {vulnerability['id']} "
            f"(fixed in {fixed})"
        )
    for line in expired:
        print(f"EXPIRED WAIVER {line}")
    for vulnerability, reason in sorted(active.items()):
        print(f"waived {vulnerability}: {reason}")
    if skipped:
        print(
            f"NOT AUDITED: {len(skipped)} of {len(dependencies)} locked packages could not be "
            "looked up in the vulnerability database (pip-audit: "
            f"{skipped[0]['skip_reason']!r}). From a machine that reaches only a package "
            "index this is expected: run `make audit` where PyPI's JSON API (pypi.org/pypi/) "
            "is reachable. No result is claimed for them."
        )
    if found or expired:
        return 1
    if skipped:
        return 2
    print(f"pip-audit: {len(dependencies)} locked packages, no known vulnerability.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

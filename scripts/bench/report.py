"""`make bench`'s results: var/bench/results.json, results.md (the table README.md and
docs/performance.md show) and ratios.png (matplotlib). Run on its own, it draws the table
and the chart again from results.json:

    .venv/bin/python scripts/bench/report.py
"""

import json
import os
import platform
from datetime import UTC, datetime

from config import OUT


def write(*, pages: list[dict], figures: list[dict], seconds: float) -> None:
    results = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "seconds": round(seconds),
        "pages": pages,
        "figures": figures,
    }
    (OUT / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    render(results)


def render(results: dict) -> None:
    (OUT / "results.md").write_text(markdown(results))
    chart(results["pages"], OUT / "ratios.png")


def machine() -> str:
    with open("/proc/cpuinfo") as cpuinfo:
        model = next(
            (line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")),
            platform.processor(),
        )
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} x {model}, {memory_gb:.0f} GB, {platform.platform(terse=True)}"


def markdown(results: dict) -> str:
    lines = [
        f"Measured {results['when']} on {results['machine']}.",
        "",
        "| page | ÷ floor, median (min-max) | p50 | p95 | queries | target | |",
        "|---|---|---|---|---|---|---|",
    ]
    for page in results["pages"]:
        if page["slow"]:
            ratio, p95 = "not load-tested", ""
        else:
            ratio = f"{page['ratio']:.2f} ({min(page['ratios']):.2f}-{max(page['ratios']):.2f})"
            p95 = f"{page['p95_ms']:.0f} ms"
        lines.append(
            f"| {page['label']} | {ratio} | {page['p50_ms']:.0f} ms | {p95} | "
            f"{page['queries']} | {page['target']} | {verdict(page)} |"
        )
    if results["figures"]:
        lines += ["", "| measure | result | target | |", "|---|---|---|---|"]
        for figure in results["figures"]:
            mark = {True: "PASS", False: "MISS", None: ""}[figure["passed"]]
            lines.append(
                f"| {figure['measure']} | {figure['value']} | {figure['target']} | {mark} |"
            )
    return "\n".join(lines) + "\n"


def verdict(page: dict) -> str:
    if page.get("reference"):
        return ""
    if page["slow"]:
        return "MISS (over 0.4 s: time in-process)"
    return "PASS" if page["passed"] else "MISS"


def chart(pages: list[dict], path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [page["label"] for page in pages]
    # A page too slow to load has no bar: its ratio (its own SQL on both sides) says little.
    medians = [0 if page["slow"] else page["ratio"] for page in pages]
    low = [0 if page["slow"] else page["ratio"] - min(page["ratios"]) for page in pages]
    high = [0 if page["slow"] else max(page["ratios"]) - page["ratio"] for page in pages]
    colours = [
        "#757575" if page.get("reference") else "#2e7d32" if page["passed"] else "#c62828"
        for page in pages
    ]
    figure, axes = plt.subplots(figsize=(9, 0.35 * len(pages) + 1.6))
    rows = range(len(pages))
    axes.barh(rows, medians, xerr=[low, high], color=colours, capsize=3)
    for row, page in enumerate(pages):
        # Each page's own target as a tick on its bar: 0.25 for most, 0.20 for HR's.
        if not page.get("reference"):
            axes.plot([page["min_ratio"]] * 2, [row - 0.4, row + 0.4], color="black", lw=1.5)
        label = (
            f"not load-tested: {page['p50_ms'] / 1000:.1f} s a request in-process"
            if page["slow"]
            else f"{page['ratio']:.2f}"
        )
        axes.text(medians[row] + high[row] + 0.005, row, label, va="center", color=colours[row])
    axes.set_yticks(list(rows), labels)
    axes.invert_yaxis()
    axes.set_xlabel("page ÷ floor, requests per second (median, min-max); black: target")
    axes.set_title("Boundary pages against the bare floor (green: target met; grey: reference)")
    axes.set_xlim(0, max(0.5, *(medians[row] + high[row] for row in rows)) * 1.1)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


if __name__ == "__main__":
    render(json.loads((OUT / "results.json").read_text()))

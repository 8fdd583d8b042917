"""The time-to-accuracy table as the pages and the terminal show it (the rows are
:mod:`fmnist.targets`'s); older settings stay in the record and in the history table.

Training GFLOP/s are the CNN's forward and backward FLOPs (PyTorch's count) over its
training, per second; the share is of the matrix-product peak that
benchmarks/matmul_peak.py measured on that machine in that precision.
"""

from __future__ import annotations

from pathlib import Path

from rich import box
from rich.table import Table

from fmnist import formats
from fmnist.recipes import Recipe
from fmnist.runs import Run
from fmnist.stats import mean_interval, spread_of
from fmnist.targets import RULE, Budget, Row, current, test_runs


def target_text(t) -> str:
    if not t:
        return ""
    goal = f"{t.accuracy:g} %" if t.accuracy is not None else "best"
    return f"{'MLP ' if t.model == 'mlp' else ''}{goal} in {t.seconds:g} s"


EVERY_STAGE = "†"  # marks a wall time that includes robustness and export


def wall_cell(row: Row) -> str:
    return f"{formats.seconds(row.wall.mean)}{EVERY_STAGE if row.every_stage else ''}" if row.wall else ""


def markdown(table: list[Row], peaks: dict) -> str:
    lines = ["| recipe | CPU | target | seeds | test % | train s mean, max | wall s | % of peak | verdict | test reads |",
             "|---|---|---|---:|---:|---:|---:|---:|---|---:|"]  # fmt: skip
    for row in table:
        share = row.share_of_peak(peaks)
        peak = "" if share is None or share[1] is None else f"{100 * share[1]:.0f} ({row.runs[0].precision})"
        lines.append(f"| {row.recipe.name} | {row.family} | {target_text(row.recipe.target)} | {len(row.runs)} | "
                     f"{formats.mean_std(row.accuracy, scale=1)} | {row.seconds.mean:.0f}, {row.seconds.high:.0f} | "
                     f"{wall_cell(row)} | {peak} | {row.verdict()} | {row.reads} |")  # fmt: skip
    if any(row.every_stage for row in table):
        lines += ["", f"{EVERY_STAGE} wall of seeds that ran every stage, robustness and export included."]
    return "\n".join(lines) + "\n"


def budget_markdown(budgets: list[Budget]) -> str:
    """Both families at each budget, paired by seed and image."""
    lines = ["| budget | CNN | MLP | CPU | seeds | CNN test % | MLP test % | CNN − MLP, points [95 % interval] | largest p |",
             "|---|---|---|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for b in budgets:
        low_high = mean_interval(b.gap)
        interval = f" [{low_high[0]:+.2f}, {low_high[1]:+.2f}]" if low_high else ""
        seconds = b.mlp.recipe.target.seconds if b.mlp.recipe.target else 0
        lines.append(f"| {seconds:g} s | {b.mlp.recipe.extends} | {b.mlp.recipe.name} | {b.mlp.family} | "
                     f"{len(b.mlp.runs)} | {formats.mean_std(b.cnn, scale=1)} | {formats.mean_std(b.mlp.accuracy, scale=1)} | "
                     f"{b.gap.mean:+.2f}{interval} | {formats.p_value(b.largest_p)} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def history(recipes: list[Recipe], runs: list[Run]) -> str:
    """Every version of every recipe scored on the test set, oldest first: what the table left out."""
    lines = ["| recipe | settings | CPU | runs | test % | train s mean | now? |", "|---|---|---|---:|---:|---:|---|"]
    for recipe in recipes:
        groups: dict[tuple, list[Run]] = {}
        for r in test_runs(recipe.name, runs):
            groups.setdefault((r.digest, r.family or "not recorded"), []).append(r)
        now = {r.digest for r in current(recipe, runs)}
        model = recipe.target.model if recipe.target else "cnn"  # whose accuracy the recipe is judged on
        for (digest, family), members in groups.items():
            scored = [getattr(r, model) for r in members]
            acc, sec = spread_of(m.accuracy for m in scored).scaled(100), spread_of(m.seconds for m in scored)
            lines.append(f"| {recipe.name} | `{digest}` | {family} | {len(members)} | {formats.mean_std(acc, scale=1)} | "
                         f"{sec.mean:.0f} | {'yes' if digest in now else 'retired'} |")  # fmt: skip
    return "\n".join(lines) + "\n"


NUMBERS = ("test %", "train s\nmean, max")


def console_table(table: list[Row]) -> Table:
    out = Table(box=box.SIMPLE_HEAD, padding=(0, 1), show_edge=False, caption=RULE, caption_justify="left")
    for name in ("recipe", "CPU", "target", "test %", "train s\nmean, max", "wall s", "verdict"):
        out.add_column(
            name, justify="right" if name[0] in "ttw" and name != "target" else "left", no_wrap=name != "verdict"
        )
    for row in table:
        n = f"\n({len(row.runs)} seeds)" if len(row.runs) > 1 else "\n(one seed)"
        out.add_row(row.recipe.name, row.family, target_text(row.recipe.target).replace(" in ", "\nin "),
                    formats.mean_std(row.accuracy, scale=1).replace(" ±", "\n±") + n,
                    f"{row.seconds.mean:.0f}, {row.seconds.high:.0f}", wall_cell(row),
                    row.verdict().replace(", ", ",\n"))  # fmt: skip
    return out


def plot(table: list[Row], path: Path) -> None:
    """Test accuracy against training seconds, every run of every row; each target a corner."""
    from fmnist.plots import plt, save_figure

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for row in table:
        done = [row.scored(r) for r in row.runs if row.scored(r).seconds and row.scored(r).accuracy]
        dots = ax.scatter([m.seconds or 0 for m in done], [100 * (m.accuracy or 0) for m in done], s=18,
                          label=f"{row.recipe.name}, {row.family}", marker="*" if "AMX" in row.family else "o")  # fmt: skip
        if (t := row.recipe.target) and t.accuracy is not None:
            ax.plot([0, t.seconds, t.seconds], [t.accuracy] * 2 + [100], linestyle=":", linewidth=1,
                    color=dots.get_facecolor()[0])  # fmt: skip
    ax.set(xscale="log", xlabel="training seconds (2 CPU cores, log scale)", ylabel="test accuracy (%)",
           ylim=(88, 96), title="Time to accuracy, MLP and CNN: every run; dotted, each target")  # fmt: skip
    ax.legend(loc="lower right", fontsize=7)
    save_figure(fig, path)

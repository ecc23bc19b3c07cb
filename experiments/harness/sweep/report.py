"""A sweep's summary: ``sweep.md`` (median and range over seeds per grid point) and, for a 2-D
grid, one heat map of the median per metric (``sweep_<metric>.png``).

Metrics shown: those asked for, else the numeric variables that vary across the points, wall
times left out (``dataset.is_wall_time``), the headline and the shallowest names first, at most
``MAX_METRICS``; sweep.md names the ones it leaves out and how to ask for them (the dataset has
all of them). The median
and range are over the seeds that finished "ok" at that point (n/a when none did).
"""

from __future__ import annotations

import itertools
import os
import re
import textwrap
import warnings

import numpy as np

from ..runner import write_text
from .dataset import is_wall_time
from ..figures import pyplot, save

MAX_METRICS = 12
HIDDEN_NAMED = 30
PER_TABLE = 4


def varying_metrics(ds) -> list[str]:
    """The numeric variables that vary across the points (wall times left out), the experiment's
    ``headline`` first, then the shallowest names (fewest "." parts), in the dataset's order."""
    out = []
    for k, v in ds.data_vars.items():
        if k in ("status", "error") or is_wall_time(k) or v.dtype.kind != "f":
            continue
        a = v.values[np.isfinite(v.values)]
        if a.size and a.min() != a.max():
            out.append(k)
    return sorted(out, key=lambda k: (not k.startswith("headline."), k.count(".")))


def default_metrics(ds) -> list[str]:
    """The first ``MAX_METRICS`` of ``varying_metrics``."""
    return varying_metrics(ds)[:MAX_METRICS]


def _cell(vals: np.ndarray) -> str:
    vals = vals[np.isfinite(vals)]
    if not vals.size:
        return "n/a"
    med = float(np.median(vals))
    if vals.size == 1:
        return f"{med:.4g}"
    return f"{med:.4g} [{float(vals.min()):.4g}, {float(vals.max()):.4g}]"


def write(out: str, ds, metrics: list[str] | None = None) -> list[str]:
    """Write ``sweep.md`` and the heat maps into ``out``; return the files written."""
    keys = [d for d in ds["status"].dims if d != "seed"]
    status = ds["status"].values
    asked = list(metrics) if metrics else default_metrics(ds)
    unknown = [m for m in asked if m not in ds.data_vars or ds[m].dtype.kind != "f"]
    shown = [m for m in asked if m not in unknown]
    n_ok, n_failed = int((status == "ok").sum()), int((status == "failed").sum())
    lines = [f"# Sweep: {ds.attrs.get('experiment', '?')}", "",
             f"Grid: {', '.join(f'{k} = {ds[k].values.tolist()}' for k in keys) or '(seeds only)'}; "
             f"seeds {ds['seed'].values.tolist()}; fixed overrides {ds.attrs.get('fixed', '{}')}"
             f"{'; tiny preset' if ds.attrs.get('tiny') else ''}.", "",
             f"Points: {status.size} ({n_ok} ok, {n_failed} failed, "
             f"{status.size - n_ok - n_failed} not finished). The points' results.json scalars "
             f"are the variables of sweep.nc ({len(ds.data_vars) - 2} besides status and error; "
             f"rule: {ds.attrs.get('flatten_rule', '')}).", ""]
    if unknown:
        lines += [f"Metrics asked for that are not numeric variables of this sweep (left out): "
                  f"{unknown}.", ""]
    hidden = [] if metrics else varying_metrics(ds)[MAX_METRICS:]
    if hidden:
        names = ", ".join(hidden[:HIDDEN_NAMED]) + (f", … ({len(hidden) - HIDDEN_NAMED} more)"
                                                   if len(hidden) > HIDDEN_NAMED else "")
        lines += [f"Shown: {len(shown)} of the {len(shown) + len(hidden)} metrics that vary "
                  f"(the headline and the shallowest names first). Not shown: {names}. Ask for "
                  f"any with --metrics=name,name (``sweep(…, metrics=[…])``); all are in "
                  f"sweep.nc.", ""]
    failed = [(idx, str(ds["error"].values[tuple(idx)])) for idx in np.argwhere(status == "failed")]
    if failed:
        lines += ["## Failed points", ""]
        for idx, err in failed:
            where = ", ".join(f"{k} = {ds[k].values[i]}" for k, i in zip(keys, idx[:-1]))
            lines.append(f"- {where + ', ' if where else ''}seed {ds['seed'].values[idx[-1]]}: {err}")
        lines.append("")
    lines += ["## Median [range] over seeds", ""]
    grid_idx = list(itertools.product(*[range(ds.sizes[k]) for k in keys]))
    for start in range(0, len(shown), PER_TABLE):
        part = shown[start:start + PER_TABLE]
        lines += ["| " + " | ".join(keys + part) + " |", "|" + "---|" * (len(keys) + len(part))]
        for idx in grid_idx:
            cells = [str(ds[k].values[i]) for k, i in zip(keys, idx)]
            cells += [_cell(np.asarray(ds[m].values[idx], dtype=float).reshape(-1)) for m in part]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    if not shown:
        lines += ["(no numeric variable varies across the points)", ""]
    files = [os.path.join(out, "sweep.md")]
    if len(keys) == 2:
        files += [_heat_map(out, ds, keys, m) for m in shown]
        lines += ["Heat maps (median over seeds): " + ", ".join(os.path.basename(f) for f in files[1:]), ""]
    write_text(files[0], "\n".join(lines))
    return files


def _heat_map(out: str, ds, keys: list[str], metric: str) -> str:
    plt = pyplot()

    with warnings.catch_warnings():                     # a point with no finished seed: NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(np.asarray(ds[metric].values, dtype=float), axis=-1)
    fig, ax = plt.subplots(figsize=(max(4.0, 1.6 + 0.45 * med.shape[1]),
                                    max(3.2, 1.6 + 0.35 * med.shape[0])))
    im = ax.imshow(med, aspect="auto", origin="lower", cmap="viridis")
    ax.set_xticks(range(med.shape[1]), [str(v) for v in ds[keys[1]].values], rotation=90)
    ax.set_yticks(range(med.shape[0]), [str(v) for v in ds[keys[0]].values])
    title = "\n".join(textwrap.wrap(metric.replace(".", ". "), 40)).replace(". ", ".")
    ax.set(xlabel=keys[1], ylabel=keys[0])
    ax.set_title(f"{title}\n(median over {ds.sizes['seed']} seeds)", fontsize=8)
    fig.colorbar(im, ax=ax)
    fig.tight_layout()
    name = f"sweep_{re.sub(r'[^A-Za-z0-9._-]', '_', metric)}.png"
    save(fig, out, name, dpi=100)
    return os.path.join(out, name)

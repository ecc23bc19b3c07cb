"""Write each tutorial (docs/tutorials/*.md) as a Jupyter notebook in docs/tutorials/notebooks/:
its text as markdown cells, its numbered python blocks as code cells, nothing else.

    python docs/tutorials/make_notebooks.py

The tests check that the notebooks equal what this script writes from the pages, and run the
pages' steps, so a notebook runs as its page does.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "notebooks"


def cells(markdown: str) -> list[dict]:
    """The page split into markdown and code cells, in order (code: the ```python blocks)."""
    out = []
    for k, part in enumerate(re.split(r"```python\n(.*?)```\n?", markdown, flags=re.S)):
        text = part.strip("\n")
        if not text:
            continue
        if k % 2:
            out.append({"cell_type": "code", "execution_count": None, "metadata": {},
                        "outputs": [], "source": text.splitlines(keepends=True)})
        else:
            text = text.replace("](../", "](../../")            # links from notebooks/
            out.append({"cell_type": "markdown", "metadata": {},
                        "source": text.splitlines(keepends=True)})
    return out


def notebook(markdown: str) -> str:
    """The notebook's JSON text (nbformat 4.4)."""
    nb = {"cells": cells(markdown),
          "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                      "name": "python3"},
                       "language_info": {"name": "python"}},
          "nbformat": 4, "nbformat_minor": 4}
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def expected() -> dict[str, str]:
    """{notebook file name: its text} for every tutorial page."""
    return {f"{p.stem}.ipynb": notebook(p.read_text()) for p in sorted(HERE.glob("*.md"))}


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    for name, text in expected().items():
        (OUT / name).write_text(text)
        print(OUT / name)

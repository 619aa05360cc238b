"""Compare an executed notebook with its stored copy the way nbval does, without running it again.

The test-suite executes each notebook once, with papermill, and then checks two things on that
one run: the metrics it recorded (``tests/thresholds.py``) and the outputs of the cells marked
``# NBVAL_CHECK_OUTPUT`` (or tagged ``nbval-check-output``), which must equal the stored ones.
The marker, the stream coalescing and the output comparison are nbval's own code (lax mode:
unmarked cells are executed but their outputs are not compared; images are never compared).
"""

from __future__ import annotations

from collections import OrderedDict
from functools import partial
from types import SimpleNamespace

import nbformat
from nbval.plugin import IPyNbCell, coalesce_streams, find_comment_markers, find_metadata_tags, nocolors

# nbval's default keys that are not compared (without --nbdime, images are not compared either)
SKIP_COMPARE = ("metadata", "traceback", "prompt_number", "output_type", "name", "execution_count",
                "application/vnd.jupyter.widget-view+json", "image/png", "image/jpeg")


def checked_cells(notebook: nbformat.NotebookNode) -> list[int]:
    """Indices of the code cells whose outputs nbval's lax mode compares."""
    indices = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        options = dict(find_comment_markers(cell.source))
        options.update(find_metadata_tags(cell.metadata))
        if options.get("check", False):
            indices.append(index)
    return indices


def _comparer() -> SimpleNamespace:
    """A stand-in for an nbval cell item, so nbval's compare_outputs can run outside a kernel session."""
    item = SimpleNamespace(colors=nocolors, comparison_traceback=[],
                           parent=SimpleNamespace(skip_compare=SKIP_COMPARE, sanitize_patterns=OrderedDict()))
    item.sanitize = partial(IPyNbCell.sanitize, item)
    item.format_output_compare = partial(_format_difference, item)
    return item


def _format_difference(item: SimpleNamespace, key: str, stored: object, executed: object) -> None:
    """nbval's report of one differing output, without its pytest-session-only pretty printer."""
    item.comparison_traceback.extend([f'output "{key}" differs', "stored:", _trim(stored),
                                      "executed:", _trim(executed)])


def _trim(value: object, limit: int = 2_000) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit} more characters)"


def compare_outputs(executed: nbformat.NotebookNode, stored: nbformat.NotebookNode) -> list[str]:
    """Differences between the checked cells of ``stored`` and the same cells in ``executed``.

    Cells are matched by their id (nbformat 4.5), so a cell papermill injects does not shift them.
    Returns one message per differing cell; an empty list means the outputs agree.
    """
    by_id = {cell.get("id"): cell for cell in executed.cells}
    problems = []
    for index in checked_cells(stored):
        reference = stored.cells[index]
        if reference.get("execution_count") is None:
            problems.append(f"cell {index} is marked for output checking but its stored copy was never run")
            continue
        ran = by_id.get(reference.get("id"))
        if ran is None or ran.source != reference.source:
            problems.append(f"cell {index}: the executed notebook has no cell with the same id and source")
            continue
        item = _comparer()
        test = coalesce_streams([nbformat.from_dict(o) for o in ran.get("outputs", [])])
        ref = coalesce_streams([nbformat.from_dict(o) for o in reference.get("outputs", [])])
        if not IPyNbCell.compare_outputs(item, test, ref):
            detail = "\n".join(str(line) for line in item.comparison_traceback)
            problems.append(f"cell {index} outputs differ from the stored ones:\n{detail}")
    return problems

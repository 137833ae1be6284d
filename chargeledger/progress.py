"""Progress of the long CLI commands (demo, verify) on stderr, drawn by rich: stdout keeps only
the result, so it can be piped."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn


class Bar:
    def __init__(self, progress: Progress, task: TaskID) -> None:
        self.progress, self.task = progress, task

    def update(self, completed: int) -> None:
        self.progress.update(self.task, completed=completed)

    def finish(self) -> None:
        task = self.progress.tasks[0]
        self.progress.update(self.task, completed=task.total)

    def advance(self, description: str) -> None:
        self.progress.update(self.task, advance=1, description=description)


@contextmanager
def progress_bar(description: str, *, total: int, unit: str = "") -> Iterator[Bar]:
    columns = [
        TextColumn("{task.description:<24}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, console=Console(stderr=True)) as progress:
        yield Bar(progress, progress.add_task(description, total=max(total, 1)))

"""What the commands share: the two consoles, the progress display, the exit on a user error."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import NoReturn, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

T = TypeVar("T")

console = Console()
errors = Console(stderr=True)


def progress_display() -> Progress:
    """A progress bar on standard error, shown only when it is a terminal, gone when done."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
        disable=not errors.is_terminal,
    )


def fail(title: str, exc: Exception, status: int = 2) -> NoReturn:
    """A user error: the message (which names file and column), no traceback."""
    errors.print(title, style="bold red", end=" ")
    errors.print(str(exc), markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(status) from None


def track(progress: Progress, description: str) -> Callable[[Iterable[T]], Iterator[T]]:
    """A ``progress`` callback that shows each item of an iterable as it is consumed."""

    def wrap(items: Iterable[T]) -> Iterator[T]:
        items = list(items)
        yield from progress.track(items, total=len(items), description=description)

    return wrap


def usage_error(message: str) -> NoReturn:
    """A bad option value: the message in red, exit status 2."""
    errors.print(message, style="red")
    raise typer.Exit(2)

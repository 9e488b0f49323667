"""The ``dfix`` command."""

from __future__ import annotations

import sys
from typing import Sequence

import click

import dfix
from dfix.cst import nodes
from dfix.errors import ParseError
from dfix.files import FileError, discover, display, read_text

EXIT_OK = 0
EXIT_ERROR = 2


def load(path: str) -> nodes.Dockerfile:
    """Read and parse one Dockerfile; FileError for anything BuildKit would refuse."""
    name = display(path)
    text = read_text(path)
    try:
        tree = dfix.parse(text)
    except ParseError as error:
        raise FileError(name, error.message, error.line, error.column) from None
    for instruction in tree.instructions:
        if isinstance(instruction, nodes.Unknown):
            column = len(instruction.indent.code.rsplit("\n", 1)[-1]) + 1
            message = f"unknown instruction {instruction.keyword_text.value!r}"
            raise FileError(name, message, instruction.start_line, column)
    return tree


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, type=click.Path(allow_dash=True))
@click.version_option(dfix.__version__, "--version", prog_name="dfix")
def cli(paths: tuple[str, ...]) -> None:
    """Check Dockerfiles: each PATH is a Dockerfile, a directory to search, or
    - for standard input. Without PATH, the current directory is searched.

    Errors are printed as PATH:LINE:COLUMN: error: MESSAGE. Exit status: 0 when
    every file was read, 2 when any could not be.
    """
    failed = 0
    checked = 0
    for item in discover(list(paths) or ["."]):
        try:
            if isinstance(item, FileError):
                raise item
            load(item)
            checked += 1
        except FileError as error:
            failed += 1
            click.echo(str(error), err=True)
    files = f"{checked} file{'s' if checked != 1 else ''} read"
    if failed:
        click.echo(f"{failed} error{'s' if failed != 1 else ''}; {files}.", err=True)
        sys.exit(EXIT_ERROR)
    click.echo(f"{files}, no errors.", err=True)
    sys.exit(EXIT_OK)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status instead of exiting."""
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="dfix", standalone_mode=False)
    except SystemExit as exit:
        return exit.code if isinstance(exit.code, int) else EXIT_ERROR
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return EXIT_ERROR
    except click.ClickException as error:
        error.show()
        return EXIT_ERROR
    return EXIT_OK

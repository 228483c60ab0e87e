"""Baseline for start-up: a two-command Typer app (`python benchmarks/typer_two.py --help`)."""

import typer

app = typer.Typer()


@app.command()
def hello(name: str) -> None:
    """Say hello."""
    print(f"hello {name}")


@app.command()
def goodbye(name: str) -> None:
    """Say goodbye."""
    print(f"goodbye {name}")


if __name__ == "__main__":
    app()

"""`python -m ivcdb`: the `ivcdb` program, as the console script runs it."""

from ivcdb.launch import run

if __name__ == "__main__":
    run()

"""A tiny dependency for the example app, built into a wheel offline by make_wheel.py."""
__version__ = "1.0"


def greet(message: str) -> str:
    return f"{message} -- greetings from sarge"

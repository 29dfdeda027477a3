"""relwatch: measure how relations between countries move, day by day, from the news."""

__version__ = "0.1.0"

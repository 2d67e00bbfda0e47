"""The question-bank domain: reading and validating bank files, loading, export, lint."""

from .files import Bank, Problem, read_bank

__all__ = ["Bank", "Problem", "read_bank"]

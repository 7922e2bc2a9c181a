"""Checkers of each chapter's exercises: one module per chapter, built on ``checkers``."""

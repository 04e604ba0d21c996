"""Labelers: the roster, training records, coverage and quizzes."""

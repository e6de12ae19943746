"""Rendering results for people: terminal (Rich) views, the explain view, the HTML report.

Only rendering lives here, below the CLI and above everything that computes a result.
"""

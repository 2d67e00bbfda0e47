"""Item analysis: classical test theory figures per question, choice, set, key point and section.

The definitions follow Moodle's quiz statistics (docs/statistics.md) so the figures can be
compared with Moodle's for the same data. Every figure is computed from SQL aggregates (sums
of scores, squares and products grouped in the database), never by looping over responses in
Python. The shapes the pages, downloads and CLI read are in quiz/stats/model.py.
"""

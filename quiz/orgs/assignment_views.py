"""Assignments: the manager's pages (create, edit, archive) and the learner's (start an
attempt for an assignment)."""

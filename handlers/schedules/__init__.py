"""Timed work the practices share: the `schedules` rows (store), the where-and-when form fields
and their checks (forms, timing), and listing and changing schedules of every kind (manage,
views). Each kind of row belongs to a practice, which says in its `Practice.schedule_kinds` what
the row does when it comes due.
"""

"""One module per thing a user does (audit, unbind, mark, plan, report, demo, doctor).

Jobs never import click (that is `cli/`) nor `contrib/` (tools for recipe authors).
"""

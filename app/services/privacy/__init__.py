"""RGPD: a client's data export (access), its erasure, and retention by anonymisation.

Modules: holds (the pure rules: what forbids erasing, when retention says to anonymise),
records (which rows are about a client), erase (the anonymisation), export (the ZIP job),
retention (the clients the purge anonymises). Doors: POST /api/v1/client/<id>/erase and
/data-export (app/api/privacy.py), the client page's actions, ``flask purge``.
"""

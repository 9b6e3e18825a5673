"""Notifications of run starts and ends: webhooks, mail and Icinga passive check results.

The runner notes each event in the transaction that records the run (outbox.py); a
delivery thread sends it later (worker.py), so that a slow or dead receiver never holds
up the next job, and records every attempt in the notifications table.
"""

"""Notifications of run starts and ends: webhooks, mail and Icinga passive check results.

The runner notes each event in the transaction that records the run (outbox.py); a
process of its own, started by the runner when there is something to send
(__main__.py, one thread per channel: worker.py), sends it later, so that a slow or dead
receiver never holds up the next job, and records every attempt in the notifications table.
"""

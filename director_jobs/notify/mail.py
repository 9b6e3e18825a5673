"""Mail: one message per event, through SMTP (STARTTLS by default) or a local `sendmail`.

The certificate of the SMTP server is verified (the system's CAs, or `ca_file`); the
password is sent only over TLS and never appears in a message.
"""

from __future__ import annotations

import smtplib
import ssl
import subprocess
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from director_jobs.notify.attempt import Attempt, verified_tls
from director_jobs.notify.config import MailChannel, is_loopback


def message_for(channel: MailChannel, payload: dict[str, Any]) -> EmailMessage:
    """Subject `[director-jobs] import-cmdb failed: error (run 42)` and a plain-text body."""
    job, status, run_id = payload.get("job"), payload.get("status"), payload.get("run_id")
    if payload.get("event") == "started":
        what = "started"
    elif payload.get("recovery"):
        what = "recovered"
    elif status in ("error", "timeout", "abandoned"):
        what = f"failed: {status}"
    else:
        what = str(status)
    message = EmailMessage()
    message["Subject"] = f"[director-jobs] {job} {what} (run {run_id})"
    message["From"] = channel.sender
    message["To"] = ", ".join(channel.to)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=str(payload.get("host") or "localhost"))
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    fields = (
        "job", "run_id", "status", "trigger", "attempt", "final", "started_at",
        "finished_at", "duration", "exit_code", "error", "last_line", "host", "url",
    )  # fmt: skip
    lines = [f"{name}: {payload.get(name)}" for name in fields if payload.get(name) is not None]
    message.set_content("\n".join(lines) + "\n")
    return message


def send_mail(channel: MailChannel, payload: dict[str, Any]) -> Attempt:
    """Hand the message to sendmail or to the SMTP server."""
    message = message_for(channel, payload)
    if channel.sendmail:
        return _sendmail(channel, message)
    return _smtp(channel, message)


_MTA_ENVIRONMENT = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}


def _sendmail(channel: MailChannel, message: EmailMessage) -> Attempt:
    """`sendmail -t -oi`: recipients from the headers, a lone dot does not end the input."""
    assert channel.sendmail is not None
    try:
        done = subprocess.run(
            [channel.sendmail, "-t", "-oi"],
            input=message.as_bytes(),
            capture_output=True,
            timeout=channel.timeout,
            check=False,
            env=_MTA_ENVIRONMENT,  # not ours: it holds the database URL with its password
        )
    except subprocess.TimeoutExpired:
        return Attempt.again(f"sendmail did not finish within {channel.timeout:g} s")
    except OSError as exc:
        return Attempt.again(f"sendmail: {exc.strerror or exc}")
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = detail[0] if detail else "no message"
        return Attempt.again(f"sendmail exited with {done.returncode}: {reason}")
    return Attempt.ok(None)


def _smtp(channel: MailChannel, message: EmailMessage) -> Attempt:
    """SMTP with STARTTLS (or TLS from the start, or none to a loopback relay)."""
    assert channel.smtp is not None
    host, _, port = channel.smtp.rpartition(":")
    host = host.strip("[]")
    context = verified_tls(channel.ca_file)
    progress = _Progress()
    try:
        if channel.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                host, int(port), timeout=channel.timeout, context=context
            )
        else:
            client = smtplib.SMTP(host, int(port), timeout=channel.timeout)
        with client:
            return _converse(client, channel, message, host, context, progress)
    except smtplib.SMTPAuthenticationError as exc:
        return Attempt.refused("SMTP: the user name or password was not accepted", exc.smtp_code)
    except smtplib.SMTPResponseException as exc:
        text = f"SMTP {exc.smtp_code}: {_text(exc.smtp_error)}"
        # 4xx: try later (greylisting, a full queue); 5xx: the server will not take it.
        if 400 <= exc.smtp_code < 500:
            return Attempt.again(text, exc.smtp_code)
        return Attempt.refused(text, exc.smtp_code)
    except smtplib.SMTPRecipientsRefused as exc:
        return Attempt.refused(f"SMTP refused {', '.join(sorted(exc.recipients))}")
    except smtplib.SMTPNotSupportedError:
        return Attempt.refused("SMTP: the server does not offer STARTTLS (set security)")
    except ssl.SSLCertVerificationError as exc:
        return Attempt.refused(f"TLS: {exc.verify_message or exc}")
    except OSError as exc:  # smtplib's own errors are OSErrors too
        reason = f"SMTP: {exc.strerror or exc}" if str(exc) else f"SMTP: {type(exc).__name__}"
        if progress.message_sent:  # the server may have taken it: not sent again
            return Attempt.refused(f"{reason} (after the message was sent; it may have arrived)")
        return Attempt.again(reason)


class _Progress:
    """How far an SMTP exchange got: a failure after the message went out is not retried."""

    message_sent = False


def _converse(
    client: smtplib.SMTP,
    channel: MailChannel,
    message: EmailMessage,
    host: str,
    context: ssl.SSLContext,
    progress: _Progress,
) -> Attempt:
    """EHLO, STARTTLS when asked, AUTH when configured, then the message."""
    client.ehlo()
    if channel.security == "starttls":
        client.starttls(context=context)
        client.ehlo()
    if channel.username:
        if channel.security == "none" and not is_loopback(host):
            return Attempt.refused("SMTP: no password is sent without TLS")
        client.login(channel.username, channel.password or "")
    progress.message_sent = True  # from here on a lost answer leaves it unknown
    refused = client.send_message(message)
    if refused:
        return Attempt.refused(f"SMTP refused {', '.join(sorted(refused))}")
    return Attempt.ok(250)


def _text(value: bytes | str) -> str:
    """A server's reply as text."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value

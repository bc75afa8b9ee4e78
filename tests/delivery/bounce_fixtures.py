"""Bounces and complaints as real servers write them, made by hand from RFC 3464 / RFC 5965 and
the shapes Postfix, Exim, Gmail, Yahoo and qmail produce. Each takes the envelope (`to`, the
address the report is delivered to: a VERP return path or a feedback address), the recipient
that failed, and the original's headers, and returns the message's bytes."""

from __future__ import annotations


def _crlf(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode()


def original_headers(*, message_id: str, rcpt: str, return_path: str = "", send_id: str = "") -> str:
    lines = []
    if return_path:
        lines.append(f"Return-Path: <{return_path}>")
    lines += [
        "Received: from mail.shop.example (mail.shop.example [192.0.2.10])",
        "\tby mx.example.net (Postfix) with ESMTPS id 4Q1x2Y3z; Sun,  6 Dec 2026 21:02:11 +0000 (UTC)",
        "From: Shop <news@shop.example>",
        f"To: <{rcpt}>",
        "Subject: Our winter sale",
        "Date: Sun, 6 Dec 2026 21:02:10 +0000",
        f"Message-ID: {message_id}",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
    ]
    if send_id:
        lines.append(f"X-Tidings-Send-Id: {send_id}")
    return "\n".join(lines) + "\n"


def postfix_dsn(
    *,
    to: str,
    rcpt: str,
    original: str,
    status: str = "5.1.1",
    diagnostic: str = "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in virtual mailbox table",
    headers_only: bool = True,
) -> bytes:
    diagnostic = diagnostic.format(rcpt=rcpt)
    original_type = "text/rfc822-headers" if headers_only else "message/rfc822"
    body = original if headers_only else original + "\nHello, the sale starts now.\n"
    return _crlf(f"""Return-Path: <>
Received: by mx.example.net (Postfix) id 8F2C11A0C3; Sun,  6 Dec 2026 21:02:12 +0000 (UTC)
Date: Sun,  6 Dec 2026 21:02:12 +0000 (UTC)
From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: {to}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="8F2C11A0C3.1733518932/mx.example.net"
Content-Transfer-Encoding: 8bit
Message-Id: <20261206210212.8F2C11A0C3@mx.example.net>

This is a MIME-encapsulated message.

--8F2C11A0C3.1733518932/mx.example.net
Content-Description: Notification
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

This is the mail system at host mx.example.net.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

                   The mail system

<{rcpt}>: host mail.example.net[198.51.100.7] said: {diagnostic} (in reply to RCPT TO command)

--8F2C11A0C3.1733518932/mx.example.net
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
X-Postfix-Queue-ID: 8F2C11A0C3
X-Postfix-Sender: rfc822; {to}
Arrival-Date: Sun,  6 Dec 2026 21:02:11 +0000 (UTC)

Final-Recipient: rfc822; {rcpt}
Original-Recipient: rfc822;{rcpt}
Action: failed
Status: {status}
Remote-MTA: dns; mail.example.net
Diagnostic-Code: smtp; {diagnostic[:60]}
    {diagnostic[60:]}

--8F2C11A0C3.1733518932/mx.example.net
Content-Description: Undelivered Message{"" if not headers_only else " Headers"}
Content-Type: {original_type}
Content-Transfer-Encoding: 8bit

{body}
--8F2C11A0C3.1733518932/mx.example.net--
""")


def exim_dsn(*, to: str, rcpt: str, original: str, action: str = "failed", status: str = "5.0.0") -> bytes:
    """Exim's failure (action failed) or its delay warning (action delayed, status 4.0.0)."""
    subject = (
        "Mail delivery failed: returning message to sender"
        if action == "failed"
        else ("Warning: message 1tJk2L-0003Xy-8Q delayed 24 hours")
    )
    return _crlf(f"""Return-path: <>
Envelope-to: {to}
Delivery-date: Sun, 06 Dec 2026 21:04:00 +0000
From: Mail Delivery System <Mailer-Daemon@exim.example.org>
To: {to}
References: <{original.split("Message-ID: ")[1].splitlines()[0].strip("<>")}>
Content-Type: multipart/report; report-type=delivery-status; boundary=1733519040-eximdsn-1804289383
MIME-Version: 1.0
Subject: {subject}
Message-Id: <E1tJk2M-0003Y1-9R@exim.example.org>
Date: Sun, 06 Dec 2026 21:04:00 +0000
X-Failed-Recipients: {rcpt}
Auto-Submitted: auto-replied

--1733519040-eximdsn-1804289383
Content-type: text/plain; charset=us-ascii

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  {rcpt}
    Unrouteable address

--1733519040-eximdsn-1804289383
Content-type: message/delivery-status

Reporting-MTA: dns; exim.example.org

Action: {action}
Final-Recipient: rfc822;{rcpt}
Status: {status}
{"Will-Retry-Until: Tue, 08 Dec 2026 21:02:11 +0000" if action == "delayed" else ""}

--1733519040-eximdsn-1804289383
Content-type: message/rfc822

{original}
Hello, the sale starts now.

--1733519040-eximdsn-1804289383--
""")


def gmail_dsn(*, to: str, recipients: list[tuple[str, str, str, str]], original: str) -> bytes:
    """Gmail's DSN (from mailer-daemon@googlemail.com): one block per (rcpt, action, status,
    diagnostic); several recipients make a multi-recipient DSN."""
    blocks = "\n".join(
        f"""Final-Recipient: rfc822; {rcpt}
Action: {action}
Status: {status}
Remote-MTA: dns; mx.example.com. (203.0.113.5, the server for the domain example.com.)
Diagnostic-Code: smtp; {diagnostic}
Last-Attempt-Date: Sun, 06 Dec 2026 13:05:41 -0800 (PST)
"""
        for rcpt, action, status, diagnostic in recipients
    )
    return _crlf(f"""Delivered-To: {to}
Received: by 2002:a05:6a10:e38b:b0:5a1:0:0 with SMTP id r11csp1234567pxb;
        Sun, 6 Dec 2026 13:05:42 -0800 (PST)
Return-Path: <>
MIME-Version: 1.0
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: {to}
Auto-Submitted: auto-replied
Subject: Delivery Status Notification (Failure)
References: <x@shop.example>
Message-ID: <6753a0d6.050a0220.1d0a1.0001.GMR@mx.google.com>
Date: Sun, 06 Dec 2026 13:05:42 -0800 (PST)
Content-Type: multipart/report; boundary="000000000000a1b2c3d4e5f60718"; report-type=delivery-status

--000000000000a1b2c3d4e5f60718
Content-Type: text/plain; charset="UTF-8"

** Message not delivered **

There was a problem delivering your message. See the technical details below.

--000000000000a1b2c3d4e5f60718
Content-Type: message/delivery-status

Reporting-MTA: dns; googlemail.com
Received-From-MTA: dns; mail.shop.example
Arrival-Date: Sun, 06 Dec 2026 13:05:40 -0800 (PST)
X-Original-Message-ID: <x@shop.example>

{blocks}
--000000000000a1b2c3d4e5f60718
Content-Type: message/rfc822

{original}
Hello, the sale starts now.

--000000000000a1b2c3d4e5f60718--
""")


def yahoo_arf(*, to: str, rcpt: str, original: str, headers_only: bool = False, mail_from: str = "") -> bytes:
    """A Yahoo feedback-loop complaint (RFC 5965), to the feedback address `to`."""
    kind = "text/rfc822-headers" if headers_only else "message/rfc822"
    body = original if headers_only else original + "\nHello, the sale starts now.\n"
    return _crlf(f"""Return-Path: <feedback@arf.mail.yahoo.com>
From: Yahoo! Mail AntiSpam Feedback <feedback@arf.mail.yahoo.com>
To: {to}
Subject: FW: Our winter sale
Date: Sun, 6 Dec 2026 22:10:03 +0000
Message-ID: <1733523003.8821.feedback@arf.mail.yahoo.com>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="----=_Part_8821_1733523003"

------=_Part_8821_1733523003
Content-Type: text/plain; charset=us-ascii
Content-Transfer-Encoding: 7bit

This is an email abuse report for an email message received from IP 192.0.2.10 on
Sun, 6 Dec 2026 21:02:11 +0000.

------=_Part_8821_1733523003
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: Yahoo!-Mail-Feedback/2.0
Version: 1
Original-Mail-From: <{mail_from}>
Original-Rcpt-To: <{rcpt}>
Arrival-Date: Sun, 6 Dec 2026 21:02:11 +0000
Reported-Domain: shop.example
Authentication-Results: mta1000.mail.ne1.yahoo.com; dkim=pass header.d=shop.example
Source-IP: 192.0.2.10

------=_Part_8821_1733523003
Content-Type: {kind}

{body}
------=_Part_8821_1733523003--
""")


def qmail_bounce(*, to: str, rcpt: str) -> bytes:
    """A free-text bounce with no DSN and no original: only the VERP envelope names the send."""
    return _crlf(f"""Return-Path: <>
Date: 6 Dec 2026 21:07:19 -0000
From: MAILER-DAEMON@old.example.com
To: {to}
Subject: failure notice

Hi. This is the qmail-send program at old.example.com.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<{rcpt}>:
Sorry, no mailbox here by that name. The user {rcpt} does not exist.
""")


def auto_reply(*, to: str) -> bytes:
    return _crlf(f"""From: Someone <someone@example.net>
To: {to}
Subject: Out of office: Our winter sale
Auto-Submitted: auto-replied
Date: Sun, 6 Dec 2026 21:03:00 +0000

I am away until January and do not read mail.
""")

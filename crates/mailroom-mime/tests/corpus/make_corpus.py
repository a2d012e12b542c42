"""Writes the corpus messages in this folder. They were written for Mailroom: the people, hosts
and texts are made up (reserved example domains), shaped after what common mail programs,
lists and servers send. Run with python3 to regenerate; the .eml files are what tests read."""
import base64, quopri, os, email.header
OUT = os.path.dirname(os.path.abspath(__file__))
files = {}

def crlf(s):
    return s.replace("\r\n", "\n").replace("\n", "\r\n")

def b64(data, width=76):
    e = base64.b64encode(data).decode()
    return "\n".join(e[i:i+width] for i in range(0, len(e), width))

def qp(data):
    return quopri.encodestring(data).decode()

def ew(text, charset="utf-8", enc="b"):
    raw = text.encode(charset)
    if enc == "b":
        return "=?%s?B?%s?=" % (charset, base64.b64encode(raw).decode())
    return "=?%s?Q?%s?=" % (charset, "".join(c if c.isalnum() and ord(c) < 128 else "=%02X" % b for c, b in ((chr(b), b) for b in raw)).replace("=20", "_"))

files["01_thunderbird_flowed.eml"] = crlf("""Return-Path: <anna@example.org>
Received: from mail.example.org (mail.example.org [192.0.2.10])
	by mx.example.net (Postfix) with ESMTPS id 4F1A2B3C4D
	for <bob@example.net>; Mon, 30 Nov 2026 10:15:02 +0100 (CET)
Message-ID: <5c1d7f2e-8a3b-4c6d-9e0f-1a2b3c4d5e6f@example.org>
Date: Mon, 30 Nov 2026 10:14:58 +0100
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Content-Language: de-DE
To: Bob Beispiel <bob@example.net>
From: Anna Schmidt <anna@example.org>
Subject: Protokoll der =?UTF-8?Q?Sitzung_vom_Donnerstag_=E2=80=93_bitte_pr=C3=BCfen?=
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 8bit

Hallo Bob,

anbei das Protokoll. Die Punkte zur Budgetplanung sind noch offen, bitte 
prüfe sie bis Freitag.

Viele Grüße
Anna
-- 
Anna Schmidt · Projektbüro
""")

html = "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1252\"></head><body lang=\"EN-US\"><div class=\"WordSection1\"><p class=\"MsoNormal\">Hi team,<o:p></o:p></p><p class=\"MsoNormal\">The quarterly figures are attached \x96 please review before Monday\x92s call.<o:p></o:p></p><p class=\"MsoNormal\">Regards,<br>Mark</p></div></body></html>"
files["02_outlook_alternative_cp1252.eml"] = crlf("""Received: from EXCH01.corp.example.com (10.0.0.5) by EXCH02.corp.example.com
 (10.0.0.6) with Microsoft SMTP Server id 15.2.1118.40; Tue, 1 Dec 2026
 08:02:11 -0500
From: Mark Johnson <mark.johnson@corp.example.com>
To: "Sales Team" <sales@corp.example.com>
CC: "O'Brien, Kate" <kate.obrien@corp.example.com>
Subject: RE: Q4 figures
Thread-Topic: Q4 figures
Thread-Index: AQHXyZ1a2b3c4d5e6f7g8h9i0jA==
Date: Tue, 1 Dec 2026 13:02:10 +0000
Message-ID: <BN6PR11MB1234ABCD5678EF@BN6PR11MB1234.namprd11.prod.outlook.com>
References: <BN6PR11MB0000AAAA1111BB@BN6PR11MB0000.namprd11.prod.outlook.com>
In-Reply-To: <BN6PR11MB0000AAAA1111BB@BN6PR11MB0000.namprd11.prod.outlook.com>
Accept-Language: en-US
Content-Language: en-US
X-MS-Has-Attach:
X-MS-TNEF-Correlator:
X-Priority: 3
Content-Type: multipart/alternative;
	boundary="_000_BN6PR11MB1234ABCD5678EFBN6PR11MB1234namprd11prodoutlo_"
MIME-Version: 1.0

--_000_BN6PR11MB1234ABCD5678EFBN6PR11MB1234namprd11prodoutlo_
Content-Type: text/plain; charset="Windows-1252"
Content-Transfer-Encoding: quoted-printable

Hi team,

The quarterly figures are attached =96 please review before Monday=92s call=
.

Regards,
Mark

--_000_BN6PR11MB1234ABCD5678EFBN6PR11MB1234namprd11prodoutlo_
Content-Type: text/html; charset="Windows-1252"
Content-Transfer-Encoding: quoted-printable

""" + qp(html.encode("latin-1")).replace("\n", "\n") + """
--_000_BN6PR11MB1234ABCD5678EFBN6PR11MB1234namprd11prodoutlo_--
""")

png = bytes(range(256)) * 3
files["03_apple_mail_related.eml"] = crlf("""From: Chloé Martin <chloe@example.fr>
Content-Type: multipart/alternative;
	boundary="Apple-Mail=_8C3D2E1F-0A9B-4C7D-8E6F-5A4B3C2D1E0F"
Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3774.600.62\\))
Subject: Photo du chantier
Message-Id: <A1B2C3D4-E5F6-4789-ABCD-EF0123456789@example.fr>
Date: Wed, 2 Dec 2026 18:44:03 +0100
To: Paul <paul@example.fr>
X-Mailer: Apple Mail (2.3774.600.62)

--Apple-Mail=_8C3D2E1F-0A9B-4C7D-8E6F-5A4B3C2D1E0F
Content-Transfer-Encoding: quoted-printable
Content-Type: text/plain;
	charset=utf-8

Voil=C3=A0 la photo prise ce matin.

Chlo=C3=A9

--Apple-Mail=_8C3D2E1F-0A9B-4C7D-8E6F-5A4B3C2D1E0F
Content-Type: multipart/related;
	type="text/html";
	boundary="Apple-Mail=_11223344-5566-7788-99AA-BBCCDDEEFF00"

--Apple-Mail=_11223344-5566-7788-99AA-BBCCDDEEFF00
Content-Transfer-Encoding: quoted-printable
Content-Type: text/html;
	charset=utf-8

<html><head><meta http-equiv=3D"content-type" content=3D"text/html; charset=3Dutf-8"></head><body style=3D"overflow-wrap: break-word;">Voil=C3=A0 la photo prise ce matin.<div><br></div><div><img src=3D"cid:F00D1234-ABCD-4EF0-9876-0123456789AB" alt=3D"chantier.png"></div><div><br></div><div>Chlo=C3=A9</div></body></html>
--Apple-Mail=_11223344-5566-7788-99AA-BBCCDDEEFF00
Content-Transfer-Encoding: base64
Content-Disposition: inline;
	filename=chantier.png
Content-Type: image/png;
	x-unix-mode=0644;
	name="chantier.png"
Content-Id: <F00D1234-ABCD-4EF0-9876-0123456789AB>

""" + b64(png) + """
--Apple-Mail=_11223344-5566-7788-99AA-BBCCDDEEFF00--

--Apple-Mail=_8C3D2E1F-0A9B-4C7D-8E6F-5A4B3C2D1E0F--
""")

files["04_gmail_alternative_base64.eml"] = crlf("""MIME-Version: 1.0
Date: Thu, 3 Dec 2026 07:21:45 -0800
Message-ID: <CAF3x+9kQ7yZ_abcDEF123ghiJKL456mnoPQR789stu@mail.gmail.com>
Subject: =?UTF-8?B?SGlraW5nIHRyaXAg8J+PlO+4jyB0aGlzIHdlZWtlbmQ/?=
From: Priya Raman <priya.raman@gmail.example>
To: hiking-club@example.org, "Tom" <tom@example.net>
Content-Type: multipart/alternative; boundary="000000000000a1b2c3d4e5f60718"

--000000000000a1b2c3d4e5f60718
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: base64

""" + b64("Who's in for Saturday? Meeting at the trailhead at 8 ☀️\r\nBring water!\r\n".encode()) + """
--000000000000a1b2c3d4e5f60718
Content-Type: text/html; charset="UTF-8"
Content-Transfer-Encoding: base64

""" + b64("<div dir=\"ltr\">Who&#39;s in for Saturday? Meeting at the trailhead at 8 ☀️<div>Bring water!</div></div>\r\n".encode()) + """
--000000000000a1b2c3d4e5f60718--
""")

files["05_yahoo_html_only.eml"] = crlf("""Date: Fri, 4 Dec 2026 02:10:33 +0000 (UTC)
From: Linda K <linda_k@yahoo.example>
Reply-To: Linda K <linda_k@yahoo.example>
To: "neighbor@example.com" <neighbor@example.com>
Message-ID: <123456789.987654.1733278233000@mail.yahoo.example>
Subject: Garage sale Saturday
MIME-Version: 1.0
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: 7bit
X-Mailer: WebService/1.1.22909 YMailNorrin

<html><head></head><body><div class="ydp" style="font-family:Helvetica Neue, Helvetica, Arial, sans-serif;font-size:13px;"><div dir="ltr">Hi! We&#39;re having a garage sale on Saturday from 9&nbsp;to&nbsp;2.</div><div dir="ltr"><br></div><div dir="ltr">Linda</div></div></body></html>
""")

files["06_mailman_list.eml"] = crlf("""Return-Path: <dev-bounces@lists.example.org>
Received: from lists.example.org (lists.example.org [198.51.100.7])
	by mx.example.net with ESMTP id 1A2B3C; Sat, 05 Dec 2026 11:00:01 +0000
From: Jan Novak <jan@example.cz>
To: dev@lists.example.org
Subject: [dev] Re: Patch: fix race in scheduler
Date: Sat, 05 Dec 2026 11:59:58 +0100
Message-ID: <20261205105958.GA12345@example.cz>
References: <20261204.abc@example.com>
In-Reply-To: <20261204.abc@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="===============5432109876543210=="
Sender: "dev" <dev-bounces@lists.example.org>
Errors-To: dev-bounces@lists.example.org
List-Id: Developer discussion <dev.lists.example.org>
List-Unsubscribe: <https://lists.example.org/mailman/options/dev>,
 <mailto:dev-request@lists.example.org?subject=unsubscribe>
List-Archive: <https://lists.example.org/pipermail/dev/>
List-Post: <mailto:dev@lists.example.org>
List-Help: <mailto:dev-request@lists.example.org?subject=help>
Precedence: list

--===============5432109876543210==
Content-Type: text/plain; charset="us-ascii"
MIME-Version: 1.0
Content-Transfer-Encoding: 7bit
Content-Disposition: inline

On Fri, Dec 04, 2026 at 09:12:00PM +0000, Dev Person wrote:
> The scheduler can run the same job twice.

Looks good to me. Acked-by: Jan Novak <jan@example.cz>

--===============5432109876543210==
Content-Type: text/plain; charset="us-ascii"
MIME-Version: 1.0
Content-Transfer-Encoding: 7bit
Content-Disposition: inline

_______________________________________________
dev mailing list
dev@lists.example.org
https://lists.example.org/mailman/listinfo/dev

--===============5432109876543210==--
""")

files["07_google_groups.eml"] = crlf("""Delivered-To: member@example.net
From: "'Sam Lee' via Robotics Club" <robotics-club@googlegroups.example>
To: Robotics Club <robotics-club@googlegroups.example>
Subject: Meeting moved to room 204
Date: Sun, 6 Dec 2026 16:30:00 -0500
Message-ID: <abcdef12-3456-7890-abcd-ef1234567890n@googlegroups.example>
Reply-To: Sam Lee <sam.lee@example.edu>
X-Original-Sender: sam.lee@example.edu
Precedence: list
Mailing-list: list robotics-club@googlegroups.example; contact robotics-club+owners@googlegroups.example
List-ID: <robotics-club.googlegroups.example>
MIME-Version: 1.0
Content-Type: text/plain; charset="UTF-8"

This week's meeting is in room 204 instead of 101.

-- 
You received this message because you are subscribed to the Google Groups "Robotics Club" group.
To unsubscribe from this group and stop receiving emails from it, send an email to robotics-club+unsubscribe@googlegroups.example.
""")

files["08_dsn_postfix_bounce.eml"] = crlf("""Return-Path: <>
Date: Mon,  7 Dec 2026 03:04:05 +0000 (UTC)
From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: sender@example.org
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="8A1B2C3D4E.1733540645/mx.example.net"
Message-Id: <20261207030405.8A1B2C3D4E@mx.example.net>

This is a MIME-encapsulated message.

--8A1B2C3D4E.1733540645/mx.example.net
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.net.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

<nobody@example.com>: host mail.example.com[203.0.113.5] said: 550 5.1.1
    <nobody@example.com>: Recipient address rejected: User unknown

--8A1B2C3D4E.1733540645/mx.example.net
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
X-Postfix-Queue-ID: 8A1B2C3D4E
Arrival-Date: Mon,  7 Dec 2026 03:04:01 +0000 (UTC)

Final-Recipient: rfc822; nobody@example.com
Original-Recipient: rfc822;nobody@example.com
Action: failed
Status: 5.1.1
Remote-MTA: dns; mail.example.com
Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.com>: Recipient address
    rejected: User unknown

--8A1B2C3D4E.1733540645/mx.example.net
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

From: Sender <sender@example.org>
To: nobody@example.com
Subject: Hello
Message-ID: <hello.1@example.org>
Date: Mon, 7 Dec 2026 03:03:59 +0000

--8A1B2C3D4E.1733540645/mx.example.net--
""")

files["09_exchange_ndr.eml"] = crlf("""From: Microsoft Outlook <postmaster@corp.example.com>
To: <user@corp.example.com>
Date: Mon, 7 Dec 2026 10:00:00 +0000
Content-Type: multipart/report; report-type=delivery-status;
	boundary="b7e2a1c4-0d3e-4f5a-9b8c-7d6e5f4a3b2c"
X-MS-Exchange-Message-Is-Ndr:
Content-Language: en-US
Message-ID: <ndr.12345@corp.example.com>
In-Reply-To: <orig.998@corp.example.com>
References: <orig.998@corp.example.com>
Subject: Undeliverable: Budget review
MIME-Version: 1.0

--b7e2a1c4-0d3e-4f5a-9b8c-7d6e5f4a3b2c
Content-Type: multipart/alternative;
	differences=Content-Type;
	boundary="2d1c0b9a-8f7e-6d5c-4b3a-291807f6e5d4"

--2d1c0b9a-8f7e-6d5c-4b3a-291807f6e5d4
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable

Your message to partner@example.net couldn't be delivered.
partner wasn't found at example.net.

--2d1c0b9a-8f7e-6d5c-4b3a-291807f6e5d4
Content-Type: text/html; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable

<html><body><p>Your message to <b>partner@example.net</b> couldn't be deliv=
ered.</p></body></html>

--2d1c0b9a-8f7e-6d5c-4b3a-291807f6e5d4--

--b7e2a1c4-0d3e-4f5a-9b8c-7d6e5f4a3b2c
Content-Type: message/delivery-status

Reporting-MTA: dns;EXCH01.corp.example.com
Received-From-MTA: dns;EXCH02.corp.example.com

Final-Recipient: rfc822;partner@example.net
Action: failed
Status: 5.1.10
Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound

--b7e2a1c4-0d3e-4f5a-9b8c-7d6e5f4a3b2c
Content-Type: message/rfc822

From: User <user@corp.example.com>
To: <partner@example.net>
Subject: Budget review
Date: Mon, 7 Dec 2026 09:59:00 +0000
Message-ID: <orig.998@corp.example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset="us-ascii"

Please see the budget review notes.

--b7e2a1c4-0d3e-4f5a-9b8c-7d6e5f4a3b2c--
""")

files["10_mdn_read_receipt.eml"] = crlf("""From: Receiver <receiver@example.net>
To: Sender <sender@example.org>
Subject: Read: Contract draft
Date: Tue, 8 Dec 2026 12:00:00 +0100
Message-ID: <mdn.42@example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=disposition-notification;
	boundary="----=_mdn_boundary_42"

------=_mdn_boundary_42
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 7bit

The message sent on 08.12.2026 11:00 to receiver@example.net with subject "Contract draft" has been displayed.

------=_mdn_boundary_42
Content-Type: message/disposition-notification

Reporting-UA: example.net; Some Mail Client
Final-Recipient: rfc822;receiver@example.net
Original-Message-ID: <contract.7@example.org>
Disposition: manual-action/MDN-sent-manually; displayed

------=_mdn_boundary_42--
""")

ics = """BEGIN:VCALENDAR
PRODID:-//Example Corp//Calendar 1.0//EN
VERSION:2.0
METHOD:REQUEST
BEGIN:VEVENT
DTSTART:20261210T140000Z
DTEND:20261210T150000Z
UID:event-7f3a@example.com
ORGANIZER;CN=Dana:mailto:dana@example.com
ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:eli@example.net
SUMMARY:Design review
END:VEVENT
END:VCALENDAR
"""
files["11_calendar_invite.eml"] = crlf("""From: Dana <dana@example.com>
To: Eli <eli@example.net>
Subject: Invitation: Design review @ Thu Dec 10, 2026 2pm - 3pm (UTC)
Date: Wed, 9 Dec 2026 09:00:00 +0000
Message-ID: <invite.7f3a@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="cal-mixed-1"

--cal-mixed-1
Content-Type: multipart/alternative; boundary="cal-alt-1"

--cal-alt-1
Content-Type: text/plain; charset="UTF-8"

You have been invited to: Design review
When: Thu Dec 10, 2026 2pm - 3pm (UTC)

--cal-alt-1
Content-Type: text/calendar; charset="UTF-8"; method=REQUEST
Content-Transfer-Encoding: 7bit

""" + ics + """
--cal-alt-1--

--cal-mixed-1
Content-Type: application/ics; name="invite.ics"
Content-Disposition: attachment; filename="invite.ics"
Content-Transfer-Encoding: base64

""" + b64(ics.replace("\n", "\r\n").encode()) + """
--cal-mixed-1--
""")

jp_subject = "会議の議事録について"
jp_body = "田中様\n\nお世話になっております。\n先日の会議の議事録を送付いたします。\n\nよろしくお願いいたします。\n佐藤\n"
files["12_japanese_iso2022jp.eml"] = (crlf("""From: =?ISO-2022-JP?B?""" + base64.b64encode("佐藤".encode("iso-2022-jp")).decode() + """?= <sato@example.jp>
To: =?ISO-2022-JP?B?""" + base64.b64encode("田中".encode("iso-2022-jp")).decode() + """?= <tanaka@example.jp>
Subject: """ + ew(jp_subject, "iso-2022-jp") + """
Date: Thu, 10 Dec 2026 09:30:00 +0900
Message-ID: <jp.minutes.1@example.jp>
MIME-Version: 1.0
Content-Type: text/plain; charset=ISO-2022-JP
Content-Transfer-Encoding: 7bit

""").encode() + crlf(jp_body).encode("iso-2022-jp"))

ru_body = "Добрый день!\n\nНапоминаю о встрече в пятницу в 15:00.\n\nС уважением,\nИван\n"
files["13_russian_koi8r.eml"] = (crlf("""From: =?KOI8-R?B?""" + base64.b64encode("Иван Петров".encode("koi8-r")).decode() + """?= <ivan@example.ru>
To: olga@example.ru
Subject: """ + ew("Встреча в пятницу", "koi8-r") + """
Date: Fri, 11 Dec 2026 10:00:00 +0300
Message-ID: <ru.meeting.5@example.ru>
MIME-Version: 1.0
Content-Type: text/plain; charset=koi8-r
Content-Transfer-Encoding: 8bit

""").encode() + crlf(ru_body).encode("koi8-r"))

zh_body = "各位同事：\n\n本周五下午三点在三楼会议室开会，请准时参加。\n\n谢谢！\n王明\n"
files["14_chinese_gb2312_base64.eml"] = crlf("""From: =?GB2312?B?""" + base64.b64encode("王明".encode("gb2312")).decode() + """?= <wangming@example.cn>
To: team@example.cn
Subject: """ + ew("会议通知", "gb2312") + """
Date: Sat, 12 Dec 2026 08:00:00 +0800
Message-ID: <cn.notice.8@example.cn>
MIME-Version: 1.0
Content-Type: text/plain; charset="gb2312"
Content-Transfer-Encoding: base64

""" + b64(crlf(zh_body).encode("gb2312")) + "\n")

he_body = "שלום רב,\n\nמצורף הדוח החודשי.\n\nבברכה,\nדנה\n"
files["15_hebrew_windows1255.eml"] = crlf("""From: =?windows-1255?B?""" + base64.b64encode("דנה כהן".encode("cp1255")).decode() + """?= <dana@example.co.il>
To: office@example.co.il
Subject: """ + ew("דוח חודשי", "windows-1255") + """
Date: Sun, 13 Dec 2026 11:11:11 +0200
Message-ID: <he.report.3@example.co.il>
MIME-Version: 1.0
Content-Type: text/plain; charset="windows-1255"
Content-Transfer-Encoding: quoted-printable

""" + qp(crlf(he_body).encode("cp1255")))

el_body = "Γεια σας,\n\nΤο συνέδριο ξεκινά τη Δευτέρα.\n\nΝίκος\n"
files["16_greek_iso8859_7.eml"] = crlf("""From: =?iso-8859-7?Q?""" + "".join("=%02X" % b for b in "Νίκος".encode("iso-8859-7")) + """?= <nikos@example.gr>
To: Maria <maria@example.gr>
Subject: """ + ew("Συνέδριο τη Δευτέρα", "iso-8859-7", "q") + """
Date: Mon, 14 Dec 2026 09:00:00 +0200
Message-ID: <gr.conf.1@example.gr>
MIME-Version: 1.0
Content-Type: text/plain; charset=iso-8859-7
Content-Transfer-Encoding: base64

""" + b64(crlf(el_body).encode("iso-8859-7")) + "\n")

de_body = "Sehr geehrte Frau Müller,\n\nanbei die Unterlagen für die Überprüfung. Die Größe der Datei beträgt 2 MB.\n\nMit freundlichen Grüßen\nKlaus Weiß\n"
files["17_german_latin1_qp.eml"] = crlf("""From: =?iso-8859-1?Q?Klaus_Wei=DF?= <k.weiss@example.de>
To: =?iso-8859-1?Q?Frau_M=FCller?= <mueller@example.de>
Subject: =?iso-8859-1?Q?Unterlagen_f=FCr_die_=DCberpr=FCfung?=
Date: Tue, 15 Dec 2026 14:22:00 +0100
Message-ID: <de.docs.11@example.de>
X-Mailer: Microsoft Outlook Express 6.00.2900.5512
MIME-Version: 1.0
Content-Type: text/plain; charset="iso-8859-1"
Content-Transfer-Encoding: quoted-printable

""" + qp(crlf(de_body).encode("latin-1")))

ar_body = "مرحبا أحمد،\n\nشكرا على رسالتك. سأرد عليك غدا.\n\nمع التحية\n"
files["18_arabic_utf8.eml"] = crlf("""From: =?UTF-8?B?""" + base64.b64encode("سارة".encode()).decode() + """?= <sara@example.sa>
To: =?UTF-8?B?""" + base64.b64encode("أحمد".encode()).decode() + """?= <ahmed@example.sa>
Subject: """ + ew("رد: شكرا") + """
Date: Wed, 16 Dec 2026 20:00:00 +0300
Message-ID: <ar.thanks.2@example.sa>
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: base64

""" + b64(crlf(ar_body).encode()) + "\n")

files["19_forwarded_rfc822.eml"] = crlf("""From: Grace <grace@example.org>
To: Henry <henry@example.net>
Subject: Fwd: Server maintenance window
Date: Thu, 17 Dec 2026 08:00:00 +0000
Message-ID: <fwd.55@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="fwd-boundary-55"

--fwd-boundary-55
Content-Type: text/plain; charset=utf-8

See the notice below, FYI.

--fwd-boundary-55
Content-Type: message/rfc822
Content-Disposition: attachment; filename="Server maintenance window.eml"

From: IT Operations <it-ops@example.org>
To: all-staff@example.org
Subject: Server maintenance window
Date: Wed, 16 Dec 2026 17:00:00 +0000
Message-ID: <maint.1@example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Servers will be down Saturday 02:00-04:00 UTC.

--fwd-boundary-55--
""")

files["20_attachment_rfc2231.eml"] = crlf("""From: Ingrid <ingrid@example.no>
To: Jon <jon@example.no>
Subject: Kvittering
Date: Fri, 18 Dec 2026 12:00:00 +0100
Message-ID: <no.receipt.4@example.no>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="rfc2231-b"

--rfc2231-b
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Her er kvitteringen for flybilletten.

--rfc2231-b
Content-Type: application/pdf; name="Kvittering_flybillett.pdf"
Content-Disposition: attachment;
 filename*0*=utf-8''Kvittering%20for%20flybillett%20Troms%C3%B8%E2%80%93;
 filename*1*=%C3%85lesund%202026.pdf
Content-Transfer-Encoding: base64

""" + b64(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n") + """
--rfc2231-b--
""")

files["21_attachment_rfc2047_name.eml"] = crlf("""From: Lars <lars@example.se>
To: Maja <maja@example.se>
Subject: Bilder
Date: Sat, 19 Dec 2026 15:00:00 +0100
Message-ID: <se.pics.6@example.se>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="----=_NextPart_000_0012_01DB5A1B.2C3D4E50"

This is a multi-part message in MIME format.

------=_NextPart_000_0012_01DB5A1B.2C3D4E50
Content-Type: text/plain; charset="iso-8859-1"
Content-Transfer-Encoding: quoted-printable

H=E4r =E4r bilderna fr=E5n resan.

------=_NextPart_000_0012_01DB5A1B.2C3D4E50
Content-Type: image/jpeg; name="=?iso-8859-1?Q?str=E4nder_i_G=F6teborg.jpg?="
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="=?iso-8859-1?Q?str=E4nder_i_G=F6teborg.jpg?="

""" + b64(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(200)) + b"\xff\xd9") + """
------=_NextPart_000_0012_01DB5A1B.2C3D4E50--
""")

files["22_smtputf8_raw_headers.eml"] = crlf("""From: Zoë Ünal <zoë@bücher.example>
To: 用户 <用户@例子.广告>
Subject: Grüße ohne Kodierung
Date: Sun, 20 Dec 2026 10:00:00 +0100
Message-ID: <utf8.raw.1@xn--bcher-kva.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Diese Nachricht nutzt SMTPUTF8 (RFC 6532): Kopfzeilen in UTF-8.
""").encode()

files["23_malformed_missing_end_boundary.eml"] = crlf("""From: broken@example.com
To: you@example.net
Subject: Truncated multipart
Date: Mon, 21 Dec 2026 00:00:00 +0000
Message-ID: <trunc.1@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="never-closed"

--never-closed
Content-Type: text/plain

First part.

--never-closed
Content-Type: application/octet-stream; name="cut.bin"
Content-Transfer-Encoding: base64

AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v
MDEyMzQ1Njc4OTo7PD0+P0BBQkNE
""")

files["24_malformed_bad_base64.eml"] = crlf("""From: Bad Encoder <bad@example.com>
To: you@example.net
Subject: Broken base64 body
Date: Tue, 22 Dec 2026 00:00:00 +0000
Message-ID: <b64.bad@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

SGVsbG8g!!!d29ybGQ*** not base64 at all ===
SGVsbG8=garbage
""")

files["25_malformed_bare_lf.eml"] = ("""From: Unix Script <cron@host.example.com>
To: admin@example.com
Subject: Cron <root@host> /usr/local/bin/backup.sh
Date: Wed, 23 Dec 2026 03:00:01 +0000
Message-ID: <cron.20261223030001@host.example.com>
Content-Type: text/plain; charset=UTF-8
X-Cron-Env: <SHELL=/bin/sh>

backup: 1532 files, 2.3 GiB copied
backup: finished in 00:04:12
""").encode()

files["26_malformed_no_from_no_date.eml"] = crlf("""To: someone@example.net
Subject: no sender, no date

A message with neither From nor Date nor Message-ID.
""")

files["27_malformed_header_garbage.eml"] = (crlf("""From: "Weird \\"Quotes\\" <odd@example.com>
To: first@example.net,, ,second@example.net, <>, not-an-address, "Only Name"
This line has no colon at all
Subject: 8-bit latin1 """).encode() + b"caf\xe9 na\xefve" + crlf("""
Date: Thu, 31 Feb 2026 25:61:61 +9999
Message-ID: no-angle-brackets@example.com
X-Empty:
X-Very-Long: """ + "x" * 1200 + """

Body after garbage headers.
""").encode())

files["28_malformed_encoded_words.eml"] = crlf("""From: =?utf-8?B?broken base64?= <ew@example.com>
To: =?x-unknown-charset?Q?Mystery_Person?= <mystery@example.net>
Subject: =?utf-8?Q?unterminated_encoded_word =?iso-8859-1?X?bad_encoding?= =?utf-8?B?w7w=?=
Date: Fri, 25 Dec 2026 00:00:00 +0000
Message-ID: <ew.broken@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=x-unknown-charset

Body in an unknown charset.
""")

files["29_malformed_nested_no_boundary.eml"] = crlf("""From: nest@example.com
To: you@example.net
Subject: Nested parts, one without boundary
Date: Sat, 26 Dec 2026 00:00:00 +0000
Message-ID: <nest.1@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative

no boundary parameter here
--outer
Content-Type: multipart/related; boundary="inner"

--inner
Content-Type: multipart/alternative; boundary="innermost"

--innermost
Content-Type: text/plain

deep text
--innermost
Content-Type: text/html

<p>deep html</p>
--innermost--
--inner--
--outer--
""")

files["30_old_plain_no_mime.eml"] = crlf("""Path: news.example.org!not-for-mail
Received: by old.example.edu (5.61/1.34)
	id AA01234; Tue, 14 Mar 1995 10:00:00 -0500
Date: Tue, 14 Mar 1995 10:00:00 -0500 (EST)
From: prof@old.example.edu (Professor Emeritus)
Message-Id: <9503141500.AA01234@old.example.edu>
To: students@old.example.edu
Subject: Office hours

Office hours this week are Thursday 2-4pm.
""")

files["31_mutt_pgp_signed.eml"] = crlf("""Date: Sun, 27 Dec 2026 22:22:22 +0100
From: Kim <kim@example.de>
To: Lee <lee@example.org>
Subject: Signed release announcement
Message-ID: <20261227212222.abcdef@example.de>
MIME-Version: 1.0
Content-Type: multipart/signed; micalg=pgp-sha256;
	protocol="application/pgp-signature"; boundary="sig-boundary-77"
Content-Disposition: inline
User-Agent: Mutt/2.2.12 (2023-09-09)

--sig-boundary-77
Content-Type: text/plain; charset=us-ascii
Content-Disposition: inline

Version 3.1 is tagged and signed.

--sig-boundary-77
Content-Type: application/pgp-signature; name="signature.asc"
Content-Description: PGP signature

-----BEGIN PGP SIGNATURE-----

iQIzBAEBCAAdFiEEabcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMN
=AbCd
-----END PGP SIGNATURE-----

--sig-boundary-77--
""")

files["32_smime_signed.eml"] = crlf("""From: Compliance <compliance@bank.example>
To: client@example.net
Subject: Your statement is ready
Date: Mon, 28 Dec 2026 06:00:00 +0000
Message-ID: <smime.statement.9@bank.example>
MIME-Version: 1.0
Content-Type: multipart/signed; protocol="application/pkcs7-signature";
	micalg=sha-256; boundary="----smime-boundary-9"

This is an S/MIME signed message

------smime-boundary-9
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 7bit

Your monthly statement is available in online banking.

------smime-boundary-9
Content-Type: application/pkcs7-signature; name="smime.p7s"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="smime.p7s"

""" + b64(bytes(range(0, 256, 3)) * 2) + """

------smime-boundary-9--
""")

refs = " ".join("<thread.%d.%s@example.com>" % (i, "q" * 20) for i in range(30))
files["33_long_lines_and_references.eml"] = crlf("""From: Threader <threader@example.com>
To: list@example.org
Subject: Re: Re: Re: Re: a very long thread
Date: Tue, 29 Dec 2026 00:00:00 +0000
Message-ID: <thread.30.x@example.com>
In-Reply-To: <thread.29.""" + "q" * 20 + """@example.com>
References: """ + refs + """
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

""" + qp(("A long line " * 200 + "\n").encode()))

files["34_header_injection_attempt.eml"] = crlf("""From: =?utf-8?B?""" + base64.b64encode(b"Mallory\r\nBcc: victim@example.org").decode() + """?= <mallory@example.com>
To: target@example.net
Subject: =?utf-8?Q?Hello=0D=0ABcc:_victim2@example.org=0D=0A=0D=0Ainjected_body?=
X-Custom: =?utf-8?B?""" + base64.b64encode(b"a\r\n\r\nb\x00c").decode() + """?=
Date: Wed, 30 Dec 2026 00:00:00 +0000
Message-ID: <inject.1@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Nothing to see here.
""")

files["35_empty_body.eml"] = crlf("""From: Empty <empty@example.com>
To: you@example.net
Subject: 
Date: Thu, 31 Dec 2026 23:59:59 +0000
Message-ID: <empty.1@example.com>
MIME-Version: 1.0
Content-Type: text/plain

""")

files["36_group_addresses.eml"] = crlf("""From: Announcer <announce@example.com>
To: undisclosed-recipients:;
Cc: Team A: alice@example.com, bob@example.com;, Team B:;
Bcc: hidden@example.com
Subject: Happy new year
Date: Fri, 1 Jan 2027 00:00:00 +0000
Message-ID: <newyear.2027@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Happy new year to all teams!
""")

for name, data in files.items():
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
print(len(files))

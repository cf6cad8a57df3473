"""Helpers shared by the fieldwork tests: read a served page, answer it, complete a token."""
from __future__ import annotations

import re
from urllib.parse import urlencode


def fields(html):
    """(page index, csrf token, answer field names in order) of a served page."""
    page = re.search(r'name="page" value="(\d+)"', html)
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', html).group(1)
    names = list(dict.fromkeys(re.findall(r'name="q:([a-z_0-9]+)"', html)))
    return (int(page.group(1)) if page else None), csrf, names


def answer(inst, var):
    """A valid answer: the first code / option, 2 for numbers, a short text."""
    item = inst.item(var)
    if item.type == "multi":
        return [item.options[0].code]
    if item.type == "integer":
        return ["2"]
    if item.type == "text":
        return ["Alles gut <b>fett</b>"]
    return [str(item.substantive_codes[0])]


def post(client, csrf, page, answers, action="next"):
    data = [("csrf", csrf), ("page", str(page)), ("action", action)]
    for k, vs in answers.items():
        data += [(k, v) for v in vs]
    return client.post("/q", content=urlencode(data), follow_redirects=False,
                       headers={"content-type": "application/x-www-form-urlencoded"})


def complete(client, inst, token, pages=None):
    """Answer `pages` pages (all when None) of the token's questionnaire; returns the answers."""
    given = {}
    r = client.get(f"/t/{token}")
    page, csrf, names = fields(r.text)
    done = 0
    while pages is None or done < pages:
        answers = {f"q:{v}": answer(inst, v) for v in names}
        r = post(client, csrf, page, answers)
        assert r.status_code == 303, r.text[:2000]
        given.update(answers)
        done += 1
        if r.headers["location"] == "/done":
            break
        page, csrf, names = fields(client.get(r.headers["location"]).text)
    return given

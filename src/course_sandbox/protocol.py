"""The names of the requests the judge sends to the runner: one list both sides import.

A request is a dict ``{"op": <one of these>, ...}``, pickled by the judge and read by
``course_sandbox.runner.handle``; the reply is plain data (``course_sandbox.wire``).
"""

EXEC = "exec"            # run a cell's source: {"source", "seq"}
CALL = "call"            # call a global or handle, or one of its attributes: {"target", "attr", "args", "kwargs"}
GETATTR = "getattr"      # {"target", "name"}
SETATTR = "setattr"      # {"target", "name", "value"}
GETITEM = "getitem"      # {"target", "key"}
SETITEM = "setitem"      # {"target", "key", "value"}
LEN = "len"              # {"target"}
BOOL = "bool"            # {"target"}
CONTAINS = "contains"    # {"target", "item"}
ITER = "iter"            # {"target"}
PING = "ping"            # is the runner alive

OPS = frozenset({EXEC, CALL, GETATTR, SETATTR, GETITEM, SETITEM, LEN, BOOL, CONTAINS, ITER, PING})

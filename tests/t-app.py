#!/usr/bin/env python3
"""t-app: the dashboard's state machine (www/app.js's pure transition) under
node, without a browser (tests/app-state.mjs, which speaks TAP itself).
Skips without node, unless CI=true."""

import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.environ.get(
    "top_srcdir", os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "tests"))
import pstest  # noqa: E402

node = shutil.which("node")
if not node:
    pstest.skip_missing("no node")
sys.stdout.flush()
os.execv(node, [node, os.path.join(pstest.testsdir, "app-state.mjs"),
                os.path.join(pstest.srcdir, "www", "app.js")])

"""The core (model, config, rules, sources, feeds, monitor, check/watch) never loads Textual or Rich:
it runs headless, and the UI stays a face on top of it."""
from __future__ import annotations

import subprocess
import sys

CORE = ["hatui.model", "hatui.config", "hatui.rules", "hatui.monitor", "hatui.sources", "hatui.feed",
        "hatui.faces.check", "hatui.faces.watch", "hatui.faces.replay_events", "hatui.ui.views", "hatui.schedule"]


def test_core_does_not_import_textual_or_rich():
    code = "import sys\n" + "".join(f"import {m}\n" for m in CORE) + (
        "from hatui.sources import build_sources\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""

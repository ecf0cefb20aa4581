"""The PDF renderer's own process: HTML on stdin, PDF on stdout (dashboard/report/render.py).

WeasyPrint lays text out with Pango and HarfBuzz, C libraries in the same process: when one of
them crashes (once, with signal 11, in a CI run we could not reproduce in 80 further runs), it
takes the process with it. Rendering here means such a crash ends this child, not the dashboard
serving /sop?format=pdf, and `siaga report` can try again and, failing, say so in one line.

Exit status: 0 with the PDF written; 3 with one line on stderr when WeasyPrint or Pango is
missing. Imports nothing of Siaga, so it starts as fast as WeasyPrint does.
"""

from __future__ import annotations

import logging
import sys

MISSING = 3


def main() -> int:
    # Their INFO lines are progress, and their warnings are about the page's screen-only CSS
    # (media queries that print ignores by design): neither is news for whoever prints.
    for name in ("weasyprint", "fontTools"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        import weasyprint
    except (ImportError, OSError) as exc:    # OSError: the Pango libraries are missing
        print(f"PDF needs WeasyPrint and Pango (pip install 'siaga[pi]'; "
              f"apt-get install libpango-1.0-0 libpangoft2-1.0-0): {exc}", file=sys.stderr)
        return MISSING
    base_url, document = sys.argv[1], sys.stdin.buffer.read().decode("utf-8")
    sys.stdout.buffer.write(weasyprint.HTML(string=document, base_url=base_url).write_pdf())
    return 0


if __name__ == "__main__":
    sys.exit(main())

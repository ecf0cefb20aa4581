"""The banner window: a small Tk program that the agent feeds with JSON lines on stdin.

Standard library only, so any Python 3 with tkinter runs it (on Windows the python.org installer
brings tkinter; on Debian/Ubuntu it is the package python3-tk). It runs as its own process: Tk
wants the main thread, a Tk crash cannot take the agent down, and the process stays alive with
its window hidden, so the chat text it put on the clipboard stays there (on X11 the clipboard
lives in the program that owns it).

stdin, one JSON object per line: {"op": "show", ...banner view...} | {"op": "close"} | {"op": "quit"}.
stdout, one JSON object per line: {"event": "ready" | "shown" | "copied" | "closed" | "error", ...}.
End of stdin (the agent is gone) ends the program.
"""

from __future__ import annotations

import json
import queue
import sys
import threading

try:
    import tkinter as tk
    import tkinter.font as tkfont
except ImportError as exc:  # no tkinter in this Python: the agent logs this line
    print(f"tkinter is not available: {exc}", file=sys.stderr)
    sys.exit(3)

COLORS = {  # kind -> (background, text)
    "notice": ("#f2a900", "#111111"),
    "wrapup": ("#c62828", "#ffffff"),
    "shutdown": ("#8e0000", "#ffffff"),
    "not_off": ("#b71c1c", "#ffffff"),      # the shutdown failed: shut it down by hand
    "cancel": ("#2e7d32", "#ffffff"),
    "test": ("#1565c0", "#ffffff"),
}
# How often the inbox is read (ms): often while a banner is up, rarely while hidden, so the
# hidden window costs ~0.05 % of a core instead of ~0.7 % at a steady 50 ms.
POLL_SHOWN_MS, POLL_HIDDEN_MS = 100, 1000
FAMILIES = ("Segoe UI", "DejaVu Sans", "Liberation Sans", "Arial", "Helvetica")


def emit(event: str, **fields: object) -> None:
    """Tell the agent what happened."""
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


class BannerWindow:
    """The always-on-top window; hidden between banners."""

    def __init__(self, root: tk.Tk) -> None:
        self.root = root
        self.view: dict = {}
        self.timers: list[str] = []
        self.remaining = 0
        sw, sh = root.winfo_screenwidth(), root.winfo_screenheight()
        self.width = max(480, int(sw * 0.72))
        self.top = max(0, sh // 20)
        family = next((f for f in FAMILIES if f in tkfont.families(root)), "TkDefaultFont")
        size = lambda div, least: (family, -max(least, sh // div))  # noqa: E731 - pixels
        root.withdraw()
        root.protocol("WM_DELETE_WINDOW", lambda: self.hide("host"))
        self.frame = tk.Frame(root, padx=sh // 30, pady=sh // 40)
        self.frame.pack(fill="both", expand=True)
        wrap = self.width - 2 * (sh // 30)
        self.title = tk.Label(self.frame, font=(*size(14, 30), "bold"), wraplength=wrap, justify="center")
        self.body = tk.Label(self.frame, font=size(28, 20), wraplength=wrap, justify="center")
        self.runtime = tk.Label(self.frame, font=(*size(22, 22), "bold"), wraplength=wrap, justify="center")
        self.countdown = tk.Label(self.frame, font=(*size(18, 24), "bold"), wraplength=wrap)
        self.buttons = tk.Frame(self.frame)
        self.copy = tk.Button(self.buttons, font=(*size(32, 18), "bold"), command=self.copy_chat,
                              padx=20, pady=10, relief="raised", bd=3)
        self.close = tk.Button(self.buttons, font=size(32, 18), command=lambda: self.hide("host"),
                               padx=20, pady=10)

    def show(self, view: dict) -> None:
        """Draw ``view`` (see agent.texts.banner_view) and raise the window."""
        self._cancel_timers()
        self.view = view
        bg, fg = COLORS.get(view.get("kind", ""), COLORS["notice"])
        for w in (self.frame, self.buttons, self.title, self.body, self.runtime, self.countdown):
            w.configure(bg=bg)
        for w in (self.title, self.body, self.runtime, self.countdown):
            w.configure(fg=fg)
        self.title.configure(text=view.get("title", ""))
        self.body.configure(text=view.get("body", ""))
        self.runtime.configure(text=view.get("runtime", ""))
        self.copy.configure(text=view.get("copy_label", "Copy"))
        self.close.configure(text=view.get("close_label", "Close"))
        countdown = view.get("countdown_s")
        self.remaining = countdown if countdown is not None else -1
        self._layout()
        self._place()
        if self.remaining >= 0:
            self._tick()
        if view.get("close_after_s"):
            self.timers.append(self.root.after(int(view["close_after_s"] * 1000), self.hide, "timer"))
        self.root.update()
        emit("shown", kind=view.get("kind"), title=view.get("title"), copy_button=self._geometry(self.copy))

    def _layout(self) -> None:
        for w in (self.title, self.body, self.runtime, self.countdown, self.buttons, self.copy, self.close):
            w.pack_forget()
        self.title.pack(anchor="w", fill="x")
        self.body.pack(anchor="w", fill="x", pady=(10, 0))
        if self.view.get("runtime"):
            self.runtime.pack(anchor="w", fill="x", pady=(16, 0))
        if self.remaining >= 0:
            self.countdown.pack(anchor="w", fill="x", pady=(16, 0))
        self.buttons.pack(fill="x", pady=(24, 0))
        if self.view.get("chat_text"):
            self.copy.pack(side="left")
        self.close.pack(side="right")

    def _place(self) -> None:
        root = self.root
        root.title(self.view.get("window_title", "Siaga"))
        root.update_idletasks()
        height = root.winfo_reqheight()
        x = (root.winfo_screenwidth() - self.width) // 2
        root.geometry(f"{self.width}x{height}+{x}+{self.top}")
        root.deiconify()
        root.attributes("-topmost", True)
        root.lift()

    def _tick(self) -> None:
        template = self.view.get("countdown", "{seconds}")
        if self.remaining == 1:
            template = self.view.get("countdown_one", template)
        done = self.view.get("countdown_done", "")
        self.countdown.configure(text=template.replace("{seconds}", str(self.remaining))
                                 if self.remaining > 0 else done)
        if self.remaining > 0:
            self.remaining -= 1
            self.timers.append(self.root.after(1000, self._tick))

    def copy_chat(self) -> None:
        """Put the chat text on the clipboard for the host to paste into the meeting chat."""
        self.root.clipboard_clear()
        self.root.clipboard_append(self.view.get("chat_text", ""))
        self.root.update()
        self.copy.configure(text=self.view.get("copied_label", "Copied"))
        emit("copied", chars=len(self.view.get("chat_text", "")))

    def hide(self, by: str) -> None:
        """Hide the window; the process (and the clipboard it holds) stays."""
        self._cancel_timers()
        if self.root.state() != "withdrawn":
            self.root.withdraw()
            emit("closed", by=by)

    def _cancel_timers(self) -> None:
        for t in self.timers:
            self.root.after_cancel(t)
        self.timers.clear()

    @staticmethod
    def _geometry(w: tk.Widget) -> list[int] | None:
        if not w.winfo_ismapped():
            return None
        return [w.winfo_rootx(), w.winfo_rooty(), w.winfo_width(), w.winfo_height()]


def read_stdin(inbox: "queue.Queue[dict]") -> None:
    """Each stdin line into ``inbox``; end of input means quit."""
    for line in sys.stdin:
        try:
            message = json.loads(line)
        except ValueError:
            emit("error", detail="a line that is not JSON")
            continue
        if isinstance(message, dict):
            inbox.put(message)
    inbox.put({"op": "quit"})


def pump(root: tk.Tk, window: BannerWindow, inbox: "queue.Queue[dict]") -> None:
    """Apply what the agent sent; Tk is only ever touched from this (the main) thread."""
    while True:
        try:
            message = inbox.get_nowait()
        except queue.Empty:
            break
        op = message.get("op")
        try:
            if op == "show":
                window.show(message)
            elif op == "close":
                window.hide("agent")
            elif op == "quit":
                root.destroy()
                return
        except (tk.TclError, TypeError, ValueError) as exc:
            emit("error", detail=f"{op}: {exc}")
    hidden = root.state() == "withdrawn"
    root.after(POLL_HIDDEN_MS if hidden else POLL_SHOWN_MS, pump, root, window, inbox)


def _dpi_aware() -> None:
    """On Windows, draw at the screen's real resolution instead of a blurry scaled one."""
    if sys.platform == "win32":
        try:
            import ctypes
            ctypes.windll.shcore.SetProcessDpiAwareness(1)
        except (AttributeError, OSError):
            pass


def main() -> int:
    """Run the banner until stdin ends."""
    _dpi_aware()
    try:
        root = tk.Tk(className="siaga-banner")
    except tk.TclError as exc:
        print(f"cannot open the display: {exc}", file=sys.stderr)
        return 3
    window = BannerWindow(root)
    inbox: queue.Queue[dict] = queue.Queue()
    threading.Thread(target=read_stdin, args=(inbox,), daemon=True).start()
    root.after(POLL_SHOWN_MS, pump, root, window, inbox)
    emit("ready")
    root.mainloop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The overview's texts at fleet size (groups, search, filters, table), in English and Bahasa
Indonesia (read through dashboard/texts/i18n.py)."""

TEXTS: dict[str, tuple[str, str]] = {  # key: (Bahasa Indonesia, English)
    "group": ("Grup", "Group"),
    "search": ("Cari", "Search"),
    "search_hint": ("nama atau id ruangan", "room name or id"),
    "state": ("Keadaan", "State"),
    "state_all": ("semua keadaan", "every state"),
    "state_problems": ("perlu perhatian (belum siap)", "needs attention (not ready)"),
    "view": ("Tampilan", "View"),
    "view_cards": ("kartu", "cards"),
    "view_table": ("tabel", "table"),
    "filter_apply": ("Tampilkan", "Show"),
    "filter_clear": ("tampilkan semua ruangan", "show every room"),
    "shown": ("menampilkan {shown} dari {scope}", "showing {shown} of {scope}"),
    "no_match": ("Tidak ada ruangan yang cocok dengan pencarian atau saringan.",
                 "No room matches the search or the filter."),
    "room": ("Ruangan", "Room"),
    "pcs_short": ("PC", "PCs"),
    "show_all": ("tampilkan semua {n}", "show all {n}"),
    # Short state names for the counts (the full ones are the chips' tooltips).
    "short_shutdown": ("PC dimatikan", "shutting down"),
    "short_wrapup": ("simpan rekaman", "wrap-up"),
    "short_pc_off": ("PC mati", "PC off"),
    "short_on_battery": ("padam", "on battery"),
    "short_fault": ("UPS tak terbaca", "UPS unreadable"),
    "short_never_seen": ("belum pernah melapor", "never reported"),
    "short_stale": ("tanpa kabar", "no news"),
    "short_attention": ("perlu dicek", "attention"),
    "short_ready": ("siap", "ready"),
}

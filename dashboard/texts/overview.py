"""The overview's texts at fleet size (groups, search, filters, table), in English and Bahasa
Indonesia (read through dashboard/texts/i18n.py)."""

EN: dict[str, str] = {
    "group": "Group",
    "group_all": "All rooms",
    "search": "Search",
    "search_hint": "room name or id",
    "state": "State",
    "state_all": "every state",
    "state_problems": "needs attention (not ready)",
    "view": "View",
    "view_cards": "cards",
    "view_table": "table",
    "filter_apply": "Show",
    "filter_clear": "show every room",
    "shown": "showing {shown} of {scope}",
    "no_match": "No room matches the search or the filter.",
    "room": "Room",
    "pcs_short": "PCs",
    "show_all": "show all {n}",
    # Short state names for the counts (the full ones are the chips' tooltips).
    "short_shutdown": "shutting down", "short_wrapup": "wrap-up", "short_pc_off": "PC off",
    "short_on_battery": "on battery", "short_fault": "UPS unreadable", "short_stale": "no news",
    "short_attention": "attention", "short_ready": "ready",
}

ID: dict[str, str] = {
    "group": "Grup",
    "group_all": "Semua ruangan",
    "search": "Cari",
    "search_hint": "nama atau id ruangan",
    "state": "Keadaan",
    "state_all": "semua keadaan",
    "state_problems": "perlu perhatian (belum siap)",
    "view": "Tampilan",
    "view_cards": "kartu",
    "view_table": "tabel",
    "filter_apply": "Tampilkan",
    "filter_clear": "tampilkan semua ruangan",
    "shown": "menampilkan {shown} dari {scope}",
    "no_match": "Tidak ada ruangan yang cocok dengan pencarian atau saringan.",
    "room": "Ruangan",
    "pcs_short": "PC",
    "show_all": "tampilkan semua {n}",
    "short_shutdown": "PC dimatikan", "short_wrapup": "simpan rekaman", "short_pc_off": "PC mati",
    "short_on_battery": "padam", "short_fault": "UPS tak terbaca", "short_stale": "tanpa kabar",
    "short_attention": "perlu dicek", "short_ready": "siap",
}

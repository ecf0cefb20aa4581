"""[policy] keys of v1.1: defaults, and files that set them."""

from pathlib import Path

from protocol.config import PolicyConfig, load_config


def write(tmp_path: Path, policy: str) -> Path:
    path = tmp_path / "siaga.toml"
    path.write_text(f'[site]\nid = "rr1"\n[[ups]]\nname = "meeting"\n[policy]\n{policy}\n')
    return path


def test_new_policy_defaults():
    p = PolicyConfig()
    assert (p.hard_shutdown_at_runtime_s, p.unreadable_shutdown_after_s) == (60, 120)
    assert p.hard_shutdown_at_runtime_s <= p.shutdown_at_runtime_s


def test_new_policy_keys_are_read_and_an_old_low_shutdown_threshold_stays_valid(tmp_path):
    config = load_config(write(tmp_path, "hard_shutdown_at_runtime_s = 30\nunreadable_shutdown_after_s = 90"))
    assert config.policy.hard_shutdown_at_runtime_s == 30 and config.policy.unreadable_shutdown_after_s == 90
    # A v1.0 file with shutdown_at_runtime_s below the new default floor: still loads (no hold).
    assert load_config(write(tmp_path, "shutdown_at_runtime_s = 45")).policy.shutdown_at_runtime_s == 45

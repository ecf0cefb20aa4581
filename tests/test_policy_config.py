"""[policy] keys of v1.1: defaults and the check that the hold only lowers the shutdown floor."""

from pathlib import Path

import pytest

from edge.config import ConfigError, PolicyConfig, load_config


def write(tmp_path: Path, policy: str) -> Path:
    path = tmp_path / "siaga.toml"
    path.write_text(f'[site]\nid = "rr1"\n[[ups]]\nname = "meeting"\n[policy]\n{policy}\n')
    return path


def test_new_policy_defaults():
    p = PolicyConfig()
    assert (p.hard_shutdown_at_runtime_s, p.unreadable_shutdown_after_s) == (60, 120)
    assert p.hard_shutdown_at_runtime_s <= p.shutdown_at_runtime_s


def test_hard_floor_above_the_shutdown_threshold_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="policy.hard_shutdown_at_runtime_s"):
        load_config(write(tmp_path, "shutdown_at_runtime_s = 100\nhard_shutdown_at_runtime_s = 150"))
    config = load_config(write(tmp_path, "hard_shutdown_at_runtime_s = 30\nunreadable_shutdown_after_s = 90"))
    assert config.policy.hard_shutdown_at_runtime_s == 30 and config.policy.unreadable_shutdown_after_s == 90

"""The one settings object: defaults < TOML file < LOUPE_* environment < explicit overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from loupe_core.settings import Settings, SettingsError


def test_defaults_put_everything_under_var():
    s = Settings.load(env={})
    assert s.data_dir == Path("var")
    assert s.catalog.startswith("sqlite:///") and s.catalog.endswith("var/catalog.sqlite")
    assert s.rate_limit_per_host == 1.0 and s.image_max_side == 1024
    assert "Loupe/" in s.user_agent and s.contact in s.user_agent


def test_toml_then_environment_then_overrides(tmp_path):
    cfg = tmp_path / "loupe.toml"
    cfg.write_text('[loupe]\ndata_dir = "/srv/loupe"\nrate_limit_per_host = 2.5\nrespect_robots = true\n')
    s = Settings.load(env={"LOUPE_CONFIG": str(cfg), "LOUPE_RESPECT_ROBOTS": "no", "LOUPE_HARVEST_WORKERS": "7"})
    assert s.data_dir == Path("/srv/loupe") and s.rate_limit_per_host == 2.5
    assert s.respect_robots is False and s.harvest_workers == 7
    assert s.source_file == str(cfg)
    assert Settings.load(env={"LOUPE_CONFIG": str(cfg)}, data_dir="/x").data_dir == Path("/x")
    assert Settings.load(env={"LOUPE_DATA_DIR": "/d"}).cache_dir == Path("/d/cache")


@pytest.mark.parametrize("env,message", [
    ({"LOUPE_HARVEST_WORKERS": "many"}, "LOUPE_HARVEST_WORKERS: setting 'harvest_workers' = 'many' is not a valid int"),
    ({"LOUPE_RESPECT_ROBOTS": "maybe"}, "expected true/false"),
    ({"LOUPE_CONFIG": "/nonexistent/loupe.toml"}, "does not exist"),
])
def test_bad_values_name_the_setting(env, message):
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Settings.load(env=env)


def test_unknown_and_malformed_file_keys_are_errors(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("rate_limit = 3\n")
    with pytest.raises(SettingsError, match="unknown setting 'rate_limit'"):
        Settings.load(env={}, config_file=cfg)
    cfg.write_text("rate_limit_per_host = [\n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        Settings.load(env={}, config_file=cfg)


def test_api_keys_are_masked_when_shown():
    s = Settings.load(env={"LOUPE_API_KEYS": "k1, k2"})
    assert s.api_key_set == {"k1", "k2"}
    assert s.as_dict()["api_keys"] == "***"


def test_database_password_is_masked_when_shown():
    s = Settings.load(env={"LOUPE_CATALOG_URL": "postgresql+psycopg://loupe:s3cret@db:5432/loupe"})
    assert s.catalog == "postgresql+psycopg://loupe:s3cret@db:5432/loupe"
    assert s.as_dict()["catalog_url"] == "postgresql+psycopg://loupe:***@db:5432/loupe"

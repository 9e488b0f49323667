"""Every rule dfix has: one module each, listed here by id."""

from __future__ import annotations

from dfix.rules import (
    df001_keyword_casing,
    df010_combine_apt_layers,
    df011_npm_cache_clean,
    dl3009_apt_lists_cleanup,
    dl3014_apt_get_yes,
    dl3015_apt_no_install_recommends,
    dl3019_apk_no_cache,
    dl3027_apt_get_not_apt,
    dl3030_yum_yes,
    dl3032_yum_clean_all,
    dl3034_zypper_yes,
    dl3036_zypper_clean,
    dl3038_dnf_yes,
    dl3040_dnf_clean_all,
    dl3042_pip_no_cache_dir,
    dl3046_useradd_no_log_init,
    dl3047_wget_progress,
    dl3059_consecutive_runs,
    dl3060_yarn_cache_clean,
    dl4000_maintainer_deprecated,
)
from dfix.rules._api import Applicability, Context, Diagnostic, Fix, Rule

ALL_RULES: tuple[Rule, ...] = (
    df001_keyword_casing.RULE,
    df010_combine_apt_layers.RULE,
    df011_npm_cache_clean.RULE,
    dl3009_apt_lists_cleanup.RULE,
    dl3014_apt_get_yes.RULE,
    dl3015_apt_no_install_recommends.RULE,
    dl3019_apk_no_cache.RULE,
    dl3027_apt_get_not_apt.RULE,
    dl3030_yum_yes.RULE,
    dl3032_yum_clean_all.RULE,
    dl3034_zypper_yes.RULE,
    dl3036_zypper_clean.RULE,
    dl3038_dnf_yes.RULE,
    dl3040_dnf_clean_all.RULE,
    dl3042_pip_no_cache_dir.RULE,
    dl3046_useradd_no_log_init.RULE,
    dl3047_wget_progress.RULE,
    dl3059_consecutive_runs.RULE,
    dl3060_yarn_cache_clean.RULE,
    dl4000_maintainer_deprecated.RULE,
)

__all__ = ["ALL_RULES", "Applicability", "Context", "Diagnostic", "Fix", "Rule"]

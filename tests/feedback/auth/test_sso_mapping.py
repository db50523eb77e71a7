"""The claim mapping's decision (pure) and the SSO settings' refusals."""

from __future__ import annotations

import uuid

import pytest

from feedback.auth.models import Role
from feedback.auth.sso.mapping import claim_values, resolve
from feedback.auth.sso.models import SsoRoleMapping, SsoRoleMappingUnit
from feedback.core.settings import Settings, SettingsError

NORTH, SOUTH = uuid.uuid4(), uuid.uuid4()


def _m(value: str, role: Role, *units: uuid.UUID, claim: str = "groups") -> SsoRoleMapping:
    return SsoRoleMapping(
        claim=claim, value=value, role=role, units=[SsoRoleMappingUnit(unit_id=u) for u in units]
    )


MAPPINGS = [
    _m("fs", Role.CASEWORKER, NORTH),
    _m("ame", Role.CASEWORKER, SOUTH),
    _m("chef-norr", Role.MANAGER, NORTH),
    _m("it", Role.ADMIN),
    _m("Socialtjänst", Role.CASEWORKER, SOUTH, claim="department"),
]


def test_no_matching_claim_means_no_access() -> None:
    assert resolve(MAPPINGS, {"groups": ["skola"]}) is None
    assert resolve(MAPPINGS, {}) is None
    assert resolve([], {"groups": ["fs"]}) is None


def test_units_of_every_mapping_with_the_chosen_role_are_joined() -> None:
    access = resolve(MAPPINGS, {"groups": ["fs", "ame"]})
    assert access is not None and access.role == Role.CASEWORKER and access.unit_ids == {NORTH, SOUTH}


def test_the_highest_role_wins_with_only_its_own_units() -> None:
    access = resolve(MAPPINGS, {"groups": ["ame", "chef-norr"]})
    assert access is not None and access.role == Role.MANAGER and access.unit_ids == {NORTH}
    admin = resolve(MAPPINGS, {"groups": ["fs", "it"]})
    assert admin is not None and admin.role == Role.ADMIN and admin.unit_ids == frozenset()


def test_other_claims_and_string_shapes_match() -> None:
    access = resolve(MAPPINGS, {"department": "Socialtjänst"})
    assert access is not None and access.unit_ids == {SOUTH}
    assert claim_values({"groups": "fs ame"}, "groups") >= {"fs", "ame"}
    assert claim_values({"groups": [1, "x", {"no": "dicts"}]}, "groups") == {"1", "x"}
    assert resolve(MAPPINGS, {"groups": "FS"}) is None  # values are exact, case included


def test_sso_settings_from_the_environment() -> None:
    env = {
        "FEEDBACK_OIDC_ISSUER": "http://127.0.0.1:9400/",
        "FEEDBACK_OIDC_CLIENT_ID": "uppf",
        "FEEDBACK_OIDC_CLIENT_SECRET": "hemligt-hemligt",
        "FEEDBACK_LOCAL_PASSWORDS": "0",
    }
    settings = Settings.from_env(env)
    assert settings.oidc_enabled and settings.oidc_issuer == "http://127.0.0.1:9400"
    assert not settings.local_passwords and settings.oidc_groups_claim == "groups"
    assert "hemligt" not in repr(settings)
    assert Settings.from_env({}).local_passwords  # on by default (the demo)
    with pytest.raises(SettingsError, match="FEEDBACK_LOCAL_PASSWORDS=0 needs"):
        Settings.from_env({"FEEDBACK_LOCAL_PASSWORDS": "0"})
    with pytest.raises(SettingsError, match="go together"):
        Settings.from_env({"FEEDBACK_OIDC_ISSUER": "https://idp.example"})
    with pytest.raises(SettingsError, match="openid"):
        Settings.from_env({**env, "FEEDBACK_OIDC_SCOPES": "email"})

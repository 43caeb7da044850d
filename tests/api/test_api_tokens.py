"""Tokens for the REST API: made, listed and revoked by administrators (library and `debrief tokens`); the store
keeps only a hash of each secret."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from assistant.api_tokens import (
    Scope,
    create_token,
    list_tokens,
    parse_scopes,
    revoke_token,
    token_hash,
    verify_token,
)
from assistant.auth import SYSTEM, Actor, Role
from assistant.errors import InvalidInput, NotAllowed, NotAuthenticated, NotFound
from assistant.store.tables import ApiToken, AuditEvent


def test_only_a_hash_of_the_secret_is_stored(db):
    made = create_token(db, SYSTEM, "power-bi", [Scope.read_trends])
    with db.session() as session:
        row = session.get(ApiToken, made.id)
        stored = [row.token_hash, row.prefix, row.name, str(row.scopes)]
    assert made.secret.startswith("dbr_") and len(made.secret) > 40
    assert row.token_hash == token_hash(made.secret) and made.secret not in " ".join(stored)
    assert "secret" not in repr(list_tokens(db, SYSTEM)[0])


def test_a_token_is_known_by_its_secret_until_revoked(db):
    made = create_token(db, SYSTEM, "intake-form", [Scope.submit, Scope.status])
    assert verify_token(db, made.secret).scopes == [Scope.submit, Scope.status]
    revoke_token(db, SYSTEM, made.prefix)
    with pytest.raises(NotAuthenticated):
        verify_token(db, made.secret)
    assert list_tokens(db, SYSTEM) == [] and list_tokens(db, SYSTEM, include_revoked=True)[0].revoked_at


def test_a_guessed_secret_is_refused_like_a_revoked_one(db):
    create_token(db, SYSTEM, "power-bi", [Scope.read_trends])
    with pytest.raises(NotAuthenticated) as refused:
        verify_token(db, "dbr_guess")
    assert refused.value.key == "api.token_invalid"


def test_each_scope_acts_with_the_role_the_app_checks(db):
    token = verify_token(db, create_token(db, SYSTEM, "bi", [Scope.read_public, Scope.read_trends]).secret)
    assert token.actor_for(Scope.read_public).role == Role.public
    assert token.actor_for(Scope.read_trends).role == Role.learning_agent
    assert token.actor_for(Scope.read_trends).name == "api:bi"
    with pytest.raises(NotAllowed):
        token.actor_for(Scope.read_staff)


def test_only_administrators_manage_tokens(db):
    agent = Actor(user_id="a1", name="lars", role=Role.learning_agent)
    with pytest.raises(NotAllowed):
        create_token(db, agent, "bi", [Scope.read_trends])
    with pytest.raises(NotAllowed):
        list_tokens(db, agent)


def test_an_unknown_scope_names_the_valid_ones():
    with pytest.raises(InvalidInput) as refused:
        parse_scopes(["read:everything"])
    assert "read:trends" in refused.value.message("en")


def test_revoking_an_unknown_token_is_not_found(db):
    with pytest.raises(NotFound):
        revoke_token(db, SYSTEM, "no-such-token")


def test_making_and_revoking_a_token_is_audited(db):
    made = create_token(db, SYSTEM, "power-bi", [Scope.read_trends])
    revoke_token(db, SYSTEM, made.id)
    with db.session() as session:
        actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions[-2:] == ["api_token_created", "api_token_revoked"]


def test_tokens_are_created_listed_and_revoked_from_the_shell(cli, db):
    created = cli("tokens", "create", "power-bi", "--scope", "read:trends", "--scope", "read:public")
    assert created.exit_code == 0, created.output
    secret = re.search(r"dbr_\S+", created.output).group(0)
    assert verify_token(db, secret).name == "power-bi"
    listed = cli("tokens", "list")
    assert "power-bi" in listed.output and "read:public, read:trends" in listed.output and secret not in listed.output
    token_id = list_tokens(db, SYSTEM)[0].id
    revoked = cli("tokens", "revoke", token_id)
    assert revoked.exit_code == 0, revoked.output
    assert "power-bi" not in cli("tokens", "list").output
    assert "revoked" in cli("tokens", "list", "--all").output


def test_the_shell_refuses_an_unknown_scope_with_a_sentence(cli):
    refused = cli("tokens", "create", "power-bi", "--scope", "admin")
    assert refused.exit_code == 2 and "read:trends" in refused.output

"""A new installation has no account: a one-time setup link (kept only as a hash, expiring) lets the first
visitor create the administrator, once; the creation is audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from assistant.auth import Role, add_user, authenticate
from assistant.errors import InvalidInput, NotAllowed
from assistant.onboarding import FirstAdminSetup
from assistant.store.tables import AuditEvent

PASSWORD = "korrekt-hest-batteri"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def setup(db, clock):
    return FirstAdminSetup(db, minutes=60, clock=clock)


def test_the_link_creates_an_administrator_once_and_is_audited(db, setup):
    link = setup.issue("http://127.0.0.1:7860")
    assert link.url == f"http://127.0.0.1:7860/setup?token={link.token}"

    actor = setup.create_admin(link.token, "admin", PASSWORD, PASSWORD)

    assert actor.role == Role.admin
    assert authenticate(db, "admin", PASSWORD) is not None
    with pytest.raises(NotAllowed) as second:
        setup.create_admin(link.token, "mallory", PASSWORD, PASSWORD)
    assert second.value.key == "onboarding.link_used"
    assert authenticate(db, "mallory", PASSWORD) is None
    with db.session() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "first_admin_created")).all()
        assert [(e.actor, e.role, e.after) for e in events] == [("admin", "admin", {"name": "admin", "role": "admin"})]


def test_no_link_is_offered_once_an_account_exists(db, setup):
    add_user(db, "anne", Role.learning_agent, PASSWORD)
    assert setup.issue("http://127.0.0.1:7860") is None
    assert not setup.pending()


def test_a_link_stops_working_when_it_expires(setup, clock):
    link = setup.issue("http://127.0.0.1:7860")
    clock.now += 59 * 60
    setup.check(link.token)
    clock.now += 2 * 60
    with pytest.raises(NotAllowed) as expired:
        setup.create_admin(link.token, "admin", PASSWORD, PASSWORD)
    assert expired.value.key == "onboarding.link_expired"


def test_an_account_made_another_way_ends_the_link(db, setup):
    link = setup.issue("http://127.0.0.1:7860")
    add_user(db, "admin", Role.admin, PASSWORD)
    with pytest.raises(NotAllowed) as late:
        setup.check(link.token)
    assert late.value.key == "onboarding.link_used"


def test_a_new_link_replaces_the_old_one_and_only_its_hash_is_kept(setup):
    old = setup.issue("http://127.0.0.1:7860")
    new = setup.issue("http://127.0.0.1:7860")
    with pytest.raises(NotAllowed):
        setup.check(old.token)
    setup.check(new.token)
    assert new.token not in repr(vars(setup))


def test_wrong_or_missing_tokens_and_bad_passwords_create_nothing(db, setup):
    link = setup.issue("http://127.0.0.1:7860")
    for token in ("", None, link.token[:-1] + "x"):
        with pytest.raises(NotAllowed):
            setup.create_admin(token, "admin", PASSWORD, PASSWORD)
    with pytest.raises(InvalidInput) as differ:
        setup.create_admin(link.token, "admin", PASSWORD, PASSWORD + "!")
    assert differ.value.key == "onboarding.passwords_differ"
    with pytest.raises(InvalidInput) as short:
        setup.create_admin(link.token, "admin", "kort", "kort")
    assert short.value.key == "auth.password_too_short"
    assert setup.pending(), "a mistake in the form does not spend the link"
    assert setup.create_admin(link.token, "admin", PASSWORD, PASSWORD).name == "admin"

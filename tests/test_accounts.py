"""Accounts and login sessions at the service layer, on SQLite and PostgreSQL.

The login rules of issue 4: Argon2id hashes and no clear password anywhere, one answer
for every failed login, a wait after repeated failures per user name, sessions that
end on idle, logout, a password change or disabling, the last admin kept, admin-only
management with exactly one audit row per change.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from argon2 import Type
from sqlalchemy import Engine, func, select, text, update

from evalcore import auth
from evalcore.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from evalcore.models import AuditEvent, LoginAttempt, User, UserSession, utcnow
from evalcore.permissions import Actor, Role
from evalcore.services import accounts
from tests.account_support import PRODUCTION_HASHER, fast_hashing  # noqa: F401

CLI = Actor.cli()
PASSWORD = "Tr0ub4dor&3-horse"
ADMIN_WEB = Actor("boss", Role.ADMIN, user_id=None, source="web")
JUDGE = Actor("a-judge", Role.JUDGE, user_id=None)
VIEWER = Actor("a-viewer", Role.VIEWER, user_id=None)


def audit_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(AuditEvent)).scalar_one())


def audit_rows(engine: Engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(AuditEvent).order_by(AuditEvent.id))]


def all_text(engine: Engine, table: str) -> str:
    """Every value of every row of ``table``, as one string to search."""
    with engine.connect() as conn:
        rows = conn.execute(text(f'SELECT * FROM "{table}"')).all()
    return "\n".join(" | ".join(str(v) for v in row) for row in rows)


def add(engine: Engine, name: str, role: str = "viewer", password: str = PASSWORD) -> int:
    return accounts.create_user(engine, actor=CLI, username=name, password=password, role=role)


def age_failures(engine: Engine, username: str, seconds: float) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(LoginAttempt)
            .where(LoginAttempt.username == username)
            .values(last_failed_at=utcnow() - timedelta(seconds=seconds))
        )


def age_session(engine: Engine, cookie_user: str, *, idle: timedelta, age: timedelta) -> None:
    with engine.begin() as conn:
        user_id = conn.execute(select(User.id).where(User.username == cookie_user)).scalar_one()
        conn.execute(
            update(UserSession)
            .where(UserSession.user_id == user_id)
            .values(last_seen_at=utcnow() - idle, created_at=utcnow() - age)
        )


# -- passwords ---------------------------------------------------------------------------------
def test_passwords_are_argon2id_and_never_stored_or_audited_in_clear(engine: Engine) -> None:
    add(engine, "alice", "admin")
    second = "An0ther-Secret!"
    accounts.set_password(engine, actor=CLI, username="alice", password=second)
    alice = accounts.login(engine, username="alice", password=second)
    third = "Th1rd-Secret?"
    accounts.change_own_password(
        engine, actor=alice.actor, cookie=alice.cookie, current=second, new=third
    )
    with engine.connect() as conn:
        stored = conn.execute(select(User.pw_hash).where(User.username == "alice")).scalar_one()
    assert stored.startswith("$argon2id$")
    assert auth.verify_password(stored, third)
    users, audit = all_text(engine, "user"), all_text(engine, "auditevent")
    for secret in (PASSWORD, second, third):
        assert secret not in users
        assert secret not in audit
    assert stored not in audit  # not even the hash goes into the trail
    assert "$argon2" not in audit


def test_production_hashing_is_argon2id_with_rfc9106_low_memory_costs() -> None:
    assert PRODUCTION_HASHER.type is Type.ID
    assert (PRODUCTION_HASHER.memory_cost, PRODUCTION_HASHER.time_cost) == (65536, 3)
    assert PRODUCTION_HASHER.hash("abcdefgh").startswith("$argon2id$v=19$m=65536,t=3,")


@pytest.mark.parametrize(
    ("password", "problem"),
    [("short1", "至少需要 8 个字符"), (" padded-password", "首尾不能是空格")],
)
def test_password_policy(engine: Engine, password: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        add(engine, "alice", password=password)
    assert audit_count(engine) == 0


def test_check_same() -> None:
    accounts.check_same("abcdefgh", "abcdefgh")
    with pytest.raises(InvalidInput, match=accounts.PASSWORDS_DIFFER):
        accounts.check_same("abcdefgh", "abcdefgH")


# -- login -------------------------------------------------------------------------------------
def test_login_opens_a_session_resolved_from_the_database(engine: Engine) -> None:
    add(engine, "alice", "admin")
    result = accounts.login(engine, username=" alice ", password=PASSWORD)
    assert result.actor.username == "alice" and result.actor.role is Role.ADMIN
    assert PASSWORD not in result.cookie
    actor = accounts.resolve_session(engine, result.cookie)
    assert actor is not None and actor.role is Role.ADMIN and actor.source == "web"
    # The database, not the cookie, decides the role on every run.
    with engine.begin() as conn:
        conn.execute(update(User).where(User.username == "alice").values(role="viewer"))
    assert accounts.resolve_session(engine, result.cookie).role is Role.VIEWER  # type: ignore[union-attr]
    # Only a digest of the token is stored.
    token = auth.unsign(result.cookie, "x")  # wrong secret: refused
    assert token is None
    assert result.cookie.split(".")[0] not in all_text(engine, "usersession")


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("ghost", PASSWORD),  # unknown user
        ("alice", "wrong-password"),  # wrong password
        ("bob", PASSWORD),  # disabled user, right password
        ("alice", ""),  # empty password
        ("", ""),  # nothing typed
        ("x" * 200, PASSWORD),  # longer than any user name can be
    ],
    ids=["unknown", "wrong-password", "disabled", "empty-password", "empty", "overlong"],
)
def test_every_failed_login_gets_the_same_answer(
    engine: Engine, username: str, password: str
) -> None:
    add(engine, "alice", "admin")
    add(engine, "bob")
    accounts.set_active(engine, actor=CLI, username="bob", active=False)
    with pytest.raises(PermissionDenied) as failure:
        accounts.login(engine, username=username, password=password)
    assert failure.value.message == auth.LOGIN_FAILED == "用户名或密码错误"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(UserSession)).scalar_one() == 0


@pytest.mark.parametrize("username", ["alice", "ghost"], ids=["known", "unknown"])
def test_repeated_failures_make_the_next_attempt_wait(engine: Engine, username: str) -> None:
    add(engine, "alice", "admin")
    add(engine, "carol")
    for _ in range(auth.FREE_FAILURES):
        with pytest.raises(PermissionDenied, match=auth.LOGIN_FAILED):
            accounts.login(engine, username=username, password="wrong-password")
    # Now even the right password must wait, and the answer does not say whether the
    # name exists: the same wording for a known and an unknown name.
    with pytest.raises(PermissionDenied) as waiting:
        accounts.login(engine, username=username, password=PASSWORD)
    assert waiting.value.message.startswith("登录尝试过于频繁")
    assert waiting.value.fields["retry_after"] == auth.login_delay(auth.FREE_FAILURES)
    # Another user name is not slowed down.
    assert accounts.login(engine, username="carol", password=PASSWORD).actor.username == "carol"
    # Once the wait is over the user may try again; success clears the counter.
    age_failures(engine, username, seconds=auth.MAX_DELAY_SECONDS + 1)
    if username == "alice":
        accounts.login(engine, username="alice", password=PASSWORD)
        with engine.connect() as conn:
            left = conn.execute(select(LoginAttempt).where(LoginAttempt.username == "alice"))
            assert left.first() is None
    else:
        with pytest.raises(PermissionDenied, match=auth.LOGIN_FAILED):
            accounts.login(engine, username=username, password=PASSWORD)


def test_throttle_message_is_identical_for_known_and_unknown_names(engine: Engine) -> None:
    add(engine, "alice")
    messages = []
    for name in ("alice", "ghost"):
        for _ in range(auth.FREE_FAILURES):
            with pytest.raises(PermissionDenied):
                accounts.login(engine, username=name, password="nope-nope")
        with pytest.raises(PermissionDenied) as waiting:
            accounts.login(engine, username=name, password="nope-nope")
        messages.append(waiting.value.message)
    assert messages[0] == messages[1]


def test_admin_password_reset_clears_the_wait(engine: Engine) -> None:
    add(engine, "alice")
    for _ in range(auth.FREE_FAILURES):
        with pytest.raises(PermissionDenied):
            accounts.login(engine, username="alice", password="nope-nope")
    accounts.set_password(engine, actor=CLI, username="alice", password="Fresh-Start-1")
    assert accounts.login(engine, username="alice", password="Fresh-Start-1").actor


# -- sessions ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("setting", "idle_minutes", "alive"),
    [
        (None, 29, True),
        (None, 31, False),
        ("5", 4, True),
        ("5", 6, False),
        ("90", 60, True),
        ("90", 91, False),
        ("not-a-number", 31, False),  # a typo falls back to 30, never to "forever"
        ("0", 31, False),
    ],
)
def test_idle_timeout_is_30_minutes_and_configurable(
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    setting: str | None,
    idle_minutes: int,
    alive: bool,
) -> None:
    if setting is None:
        monkeypatch.delenv(accounts.IDLE_ENV, raising=False)
    else:
        monkeypatch.setenv(accounts.IDLE_ENV, setting)
    add(engine, "alice")
    cookie = accounts.login(engine, username="alice", password=PASSWORD).cookie
    age_session(engine, "alice", idle=timedelta(minutes=idle_minutes), age=timedelta(hours=2))
    assert (accounts.resolve_session(engine, cookie) is not None) is alive
    if not alive:  # refused once means refused for good, even if touched again
        age_session(engine, "alice", idle=timedelta(0), age=timedelta(hours=2))
        assert accounts.resolve_session(engine, cookie) is None


def test_activity_keeps_a_session_alive_but_not_past_its_maximum_age(engine: Engine) -> None:
    add(engine, "alice")
    cookie = accounts.login(engine, username="alice", password=PASSWORD).cookie
    age_session(engine, "alice", idle=timedelta(minutes=20), age=timedelta(hours=1))
    assert accounts.resolve_session(engine, cookie) is not None  # touches last_seen_at
    with engine.connect() as conn:
        seen = conn.execute(select(UserSession.last_seen_at)).scalar_one()
    seen = seen if seen.tzinfo else seen.replace(tzinfo=utcnow().tzinfo)
    assert utcnow() - seen < timedelta(minutes=1)
    age_session(
        engine, "alice", idle=timedelta(0), age=accounts.SESSION_MAX_AGE + timedelta(minutes=1)
    )
    assert accounts.resolve_session(engine, cookie) is None


def forged(cookie: str) -> list[str]:
    token, _, mac = cookie.rpartition(".")
    flipped = ("0" if mac[0] != "0" else "1") + mac[1:]
    return [
        f"{token}.{flipped}",  # signature tampered
        f"{token[:-1]}{'A' if token[-1] != 'A' else 'B'}.{mac}",  # token tampered
        token,  # no signature
        auth.sign(token, "some-other-secret"),  # signed with another key
        auth.sign(auth.new_token(), "some-other-secret"),
        "admin",
        "role=admin",
        "",
        ".",
    ]


def test_forged_or_tampered_cookies_resolve_to_nobody(engine: Engine) -> None:
    add(engine, "alice", "admin")
    cookie = accounts.login(engine, username="alice", password=PASSWORD).cookie
    for value in forged(cookie):
        assert accounts.resolve_session(engine, value) is None, value
        accounts.logout(engine, value)  # ignored, and does not end the real session
    assert accounts.resolve_session(engine, cookie) is not None
    assert accounts.resolve_session(engine, None) is None


def test_logout_ends_only_that_session(engine: Engine) -> None:
    add(engine, "alice")
    first = accounts.login(engine, username="alice", password=PASSWORD).cookie
    second = accounts.login(engine, username="alice", password=PASSWORD).cookie
    accounts.logout(engine, first)
    assert accounts.resolve_session(engine, first) is None
    assert accounts.resolve_session(engine, second) is not None
    assert audit_count(engine) == 1  # the creation; logging in and out changes no account


def test_disabling_ends_every_session_and_refuses_login(engine: Engine) -> None:
    add(engine, "alice", "admin")
    add(engine, "bob")
    cookies = [accounts.login(engine, username="bob", password=PASSWORD).cookie for _ in range(2)]
    assert accounts.set_active(engine, actor=CLI, username="bob", active=False)
    assert all(accounts.resolve_session(engine, c) is None for c in cookies)
    with pytest.raises(PermissionDenied, match=auth.LOGIN_FAILED):
        accounts.login(engine, username="bob", password=PASSWORD)
    # Re-enabling does not bring the old sessions back.
    assert accounts.set_active(engine, actor=CLI, username="bob", active=True)
    assert all(accounts.resolve_session(engine, c) is None for c in cookies)
    assert accounts.login(engine, username="bob", password=PASSWORD).actor.username == "bob"


def test_password_reset_ends_every_session(engine: Engine) -> None:
    add(engine, "bob")
    cookie = accounts.login(engine, username="bob", password=PASSWORD).cookie
    accounts.set_password(engine, actor=CLI, username="bob", password="Brand-New-Pass")
    assert accounts.resolve_session(engine, cookie) is None
    with pytest.raises(PermissionDenied, match=auth.LOGIN_FAILED):
        accounts.login(engine, username="bob", password=PASSWORD)
    assert accounts.login(engine, username="bob", password="Brand-New-Pass").actor


def test_changing_ones_own_password_keeps_this_session_and_ends_the_others(
    engine: Engine,
) -> None:
    add(engine, "bob")
    here = accounts.login(engine, username="bob", password=PASSWORD)
    elsewhere = accounts.login(engine, username="bob", password=PASSWORD).cookie
    with pytest.raises(InvalidInput, match="当前密码不正确"):
        accounts.change_own_password(
            engine, actor=here.actor, cookie=here.cookie, current="wrong-one", new="Next-Pass-1"
        )
    before = audit_count(engine)
    accounts.change_own_password(
        engine, actor=here.actor, cookie=here.cookie, current=PASSWORD, new="Next-Pass-1"
    )
    assert accounts.resolve_session(engine, here.cookie) is not None
    assert accounts.resolve_session(engine, elsewhere) is None
    assert audit_count(engine) == before + 1
    event = audit_rows(engine)[-1]
    assert (event["action"], event["actor"], event["source"]) == ("user.password", "bob", "web")


def test_the_cli_operator_has_no_own_password(engine: Engine) -> None:
    with pytest.raises(PermissionDenied):
        accounts.change_own_password(engine, actor=CLI, cookie=None, current="x", new="y" * 8)


# -- account management ------------------------------------------------------------------------
def test_the_last_active_admin_cannot_be_disabled(engine: Engine) -> None:
    add(engine, "alice", "admin")
    with pytest.raises(Conflict, match="最后一个"):
        accounts.set_active(engine, actor=CLI, username="alice", active=False)
    add(engine, "bob", "admin")
    assert accounts.set_active(engine, actor=CLI, username="alice", active=False)
    with pytest.raises(Conflict, match="最后一个"):
        accounts.set_active(engine, actor=CLI, username="bob", active=False)
    # A disabled admin does not count; enabling alice again frees bob.
    accounts.set_active(engine, actor=CLI, username="alice", active=True)
    assert accounts.set_active(engine, actor=CLI, username="bob", active=False)


def test_every_change_leaves_exactly_one_audit_row(engine: Engine) -> None:
    steps: list[tuple[Callable[[], object], str, Actor]] = [
        (lambda: add(engine, "alice", "admin"), "user.create", CLI),
        (
            lambda: accounts.create_user(
                engine, actor=ADMIN_WEB, username="bob", password=PASSWORD, role="viewer"
            ),
            "user.create",
            ADMIN_WEB,
        ),
        (
            lambda: accounts.set_password(
                engine, actor=ADMIN_WEB, username="bob", password="Reset-Pass-1"
            ),
            "user.password",
            ADMIN_WEB,
        ),
        (
            lambda: accounts.set_active(engine, actor=CLI, username="bob", active=False),
            "user.disable",
            CLI,
        ),
        (
            lambda: accounts.set_active(engine, actor=CLI, username="bob", active=True),
            "user.enable",
            CLI,
        ),
    ]
    for step, action, actor in steps:
        before = audit_count(engine)
        step()
        rows = audit_rows(engine)
        assert len(rows) == before + 1, action
        event = rows[-1]
        assert event["action"] == action
        assert event["entity"] == "user"
        assert (event["actor"], event["role"], event["source"]) == (
            actor.username,
            "admin",
            actor.source,
        )
    assert [r["entity_key"] for r in audit_rows(engine)] == ["alice", "bob", "bob", "bob", "bob"]
    assert audit_rows(engine)[3]["old"] == {"active": True}
    assert audit_rows(engine)[3]["new"] == {"active": False}
    # A no-op and a refused change leave nothing.
    before = audit_count(engine)
    assert not accounts.set_active(engine, actor=CLI, username="bob", active=True)
    with pytest.raises(Conflict):
        add(engine, "bob")
    with pytest.raises(Conflict):
        accounts.set_active(engine, actor=CLI, username="alice", active=False)
    with pytest.raises(NotFound):
        accounts.set_password(engine, actor=CLI, username="nobody", password=PASSWORD)
    assert audit_count(engine) == before


MANAGEMENT: dict[str, Callable[[Engine, Actor], object]] = {
    "create_user": lambda e, a: accounts.create_user(
        e, actor=a, username="mallory", password=PASSWORD, role="admin"
    ),
    "set_password": lambda e, a: accounts.set_password(
        e, actor=a, username="alice", password="Hijacked-1234"
    ),
    "disable": lambda e, a: accounts.set_active(e, actor=a, username="alice", active=False),
    "enable": lambda e, a: accounts.set_active(e, actor=a, username="alice", active=True),
    "list_users": lambda e, a: accounts.list_users(e, actor=a),
    "usernames": lambda e, a: accounts.usernames(e, actor=a),
}


@pytest.mark.parametrize("call", list(MANAGEMENT), ids=list(MANAGEMENT))
@pytest.mark.parametrize("actor", [JUDGE, VIEWER], ids=["judge", "viewer"])
def test_user_management_is_admin_only(engine: Engine, call: str, actor: Actor) -> None:
    add(engine, "alice", "admin")
    add(engine, "zed", "admin")
    before = audit_count(engine)
    with pytest.raises(PermissionDenied, match="无权管理用户"):
        MANAGEMENT[call](engine, actor)
    assert audit_count(engine) == before


@pytest.mark.parametrize("call", list(MANAGEMENT), ids=list(MANAGEMENT))
@pytest.mark.parametrize("actor", [ADMIN_WEB, CLI], ids=["admin", "cli"])
def test_user_management_is_open_to_admins_and_the_cli(
    engine: Engine, call: str, actor: Actor
) -> None:
    add(engine, "alice", "admin")
    add(engine, "zed", "admin")
    if call == "enable":
        accounts.set_active(engine, actor=CLI, username="alice", active=False)
    before = audit_count(engine)
    MANAGEMENT[call](engine, actor)
    writes = call not in ("list_users", "usernames")
    assert audit_count(engine) == before + writes
    if writes:
        event = audit_rows(engine)[-1]
        assert (event["actor"], event["source"]) == (actor.username, actor.source)


def test_create_user_rules(demo_engine: Engine) -> None:
    engine = demo_engine
    with pytest.raises(InvalidInput, match="必须关联评委"):
        add(engine, "j2", "judge")
    with pytest.raises(NotFound, match="找不到评委「无名氏」"):
        accounts.create_user(
            engine, actor=CLI, username="j2", password=PASSWORD, role="judge", judge="无名氏"
        )
    with pytest.raises(Conflict, match="已有账号 judge"):  # 王建华 (J01) is the demo judge's
        accounts.create_user(
            engine, actor=CLI, username="j2", password=PASSWORD, role="judge", judge="王建华"
        )
    with pytest.raises(InvalidInput, match="只有评委账号"):
        accounts.create_user(
            engine, actor=CLI, username="v2", password=PASSWORD, role="viewer", judge="李淑芬"
        )
    with pytest.raises(InvalidInput, match="角色只能是"):
        add(engine, "x2", "superuser")
    for bad in ("", "   ", "has space", "x" * 65):
        with pytest.raises(InvalidInput):
            add(engine, bad)
    with pytest.raises(Conflict, match="已存在"):
        add(engine, "admin")
    before = audit_count(engine)
    uid = accounts.create_user(
        engine, actor=CLI, username="j2", password=PASSWORD, role="judge", judge="J02"
    )
    assert audit_count(engine) == before + 1
    actor = accounts.login(engine, username="j2", password=PASSWORD).actor
    assert (actor.role, actor.user_id) == (Role.JUDGE, uid)
    assert actor.judge_id is not None
    users = accounts.list_users(engine, actor=CLI).set_index("username")
    assert users.loc["j2", "judge"] == "李淑芬"
    assert users.loc["j2", "role_label"] == "评委"
    assert not users.loc["j2", "is_demo"]


def test_list_users_shows_last_activity(engine: Engine) -> None:
    add(engine, "alice", "admin")
    add(engine, "bob")
    accounts.login(engine, username="alice", password=PASSWORD)
    users = accounts.list_users(engine, actor=CLI).set_index("username")
    assert list(users.columns) == [c for c in accounts.USER_COLUMNS if c != "username"]
    assert users.loc["alice", "last_seen"] is not None and str(users.loc["alice", "last_seen"])
    assert str(users.loc["bob", "last_seen"]) == "NaT"
    assert users["active"].dtype == bool


# -- demo accounts -----------------------------------------------------------------------------
def test_demo_accounts_are_listed_until_disabled_or_their_password_changes(
    demo_engine: Engine,
) -> None:
    engine = demo_engine
    listed = accounts.demo_accounts(engine)
    assert listed == [
        ("admin", "admin", "admin123"),
        ("judge", "judge", "judge123"),
        ("viewer", "viewer", "viewer123"),
    ]
    for name, _, password in listed:  # the published passwords really work
        assert accounts.login(engine, username=name, password=password).actor.username == name
    accounts.set_active(engine, actor=CLI, username="viewer", active=False)
    accounts.set_password(engine, actor=CLI, username="judge", password="Not-Public-Any-More")
    assert accounts.demo_accounts(engine) == [("admin", "admin", "admin123")]
    admin = accounts.login(engine, username="admin", password="admin123")
    accounts.change_own_password(
        engine, actor=admin.actor, cookie=admin.cookie, current="admin123", new="Mine-Only-123"
    )
    assert accounts.demo_accounts(engine) == []
    # Re-enabling the untouched viewer makes its published password usable again: listed.
    accounts.set_active(engine, actor=CLI, username="viewer", active=True)
    assert accounts.demo_accounts(engine) == [("viewer", "viewer", "viewer123")]

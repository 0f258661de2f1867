"""Accounts and login sessions.

Login answers every failure (unknown user, wrong password, disabled account) with the
same ``用户名或密码错误``; after repeated failures for a user name, whether it exists or
not, the next attempt must wait. A successful login returns a signed cookie value for a
server-side session; every page run resolves it from the database again (role and
active flag included), so nothing a browser holds or a session state says can raise a
user's rights. Sessions end on logout, when the password changes, when the account is
disabled, after ``EVALCORE_IDLE_MINUTES`` (default 30) without a request, and at the
latest :data:`SESSION_MAX_AGE` after login.

Account management is for admins (and the CLI, which acts as the server's operator);
every change leaves exactly one audit row, and no password or hash ever reaches it.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd
from sqlalchemy import Engine, delete, func, update
from sqlalchemy import select as select_columns
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from evalcore import auth
from evalcore.db import transaction
from evalcore.demo import DEMO_ACCOUNTS
from evalcore.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from evalcore.models import AppMeta, Judge, LoginAttempt, User, UserSession, utcnow
from evalcore.permissions import Action, Actor, Role, require
from evalcore.services.audit import record

IDLE_ENV = "EVALCORE_IDLE_MINUTES"
SECRET_ENV = "EVALCORE_SECRET"
DEFAULT_IDLE_MINUTES = 30.0
#: A session ends this long after login however busy it is; the cookie lives as long.
SESSION_MAX_AGE = timedelta(hours=12)
#: ``last_seen_at`` is written at most this often, so a page run is usually read-only.
_TOUCH_EVERY = timedelta(seconds=30)
_SECRET_KEY = "session_secret"
#: Column widths of the ``user`` and ``loginattempt`` tables.
MAX_USERNAME = 64
MAX_DISPLAY_NAME = 64
USER_COLUMNS = [
    "id",
    "username",
    "display_name",
    "role",
    "role_label",
    "judge",
    "active",
    "is_demo",
    "created_at",
    "last_seen",
]
PASSWORDS_DIFFER = "两次输入的密码不一致"


def idle_timeout() -> timedelta:
    """How long a session may sit unused; ``EVALCORE_IDLE_MINUTES`` overrides 30."""
    raw = os.environ.get(IDLE_ENV, "").strip()
    try:
        minutes = float(raw) if raw else DEFAULT_IDLE_MINUTES
    except ValueError:
        minutes = DEFAULT_IDLE_MINUTES  # a typo must not leave sessions open forever
    return timedelta(minutes=minutes if minutes > 0 else DEFAULT_IDLE_MINUTES)


def _aware(moment: datetime) -> datetime:
    """SQLite hands timestamps back without a zone; they were written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _secret(session: Session) -> str:
    """The HMAC key for cookies: from the environment, else one per database (shared by
    every replica), created on first use."""
    configured = os.environ.get(SECRET_ENV)
    if configured:
        return configured
    meta = session.get(AppMeta, _SECRET_KEY)
    if meta is None:
        meta = AppMeta(key=_SECRET_KEY, value=secrets.token_hex(32))
        session.add(meta)
        session.flush()
    return meta.value


def actor_of(user: User, source: str = "web") -> Actor:
    return Actor(
        username=user.username,
        role=Role(user.role),
        user_id=user.id,
        judge_id=user.judge_id,
        source=source,
    )


def _user_by_name(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username)).first()


def check_same(password: str, again: str) -> None:
    """Two typings of a new password must agree (forms and the CLI prompt twice)."""
    if password != again:
        raise InvalidInput(PASSWORDS_DIFFER)


# -- login sessions ------------------------------------------------------------------------
@dataclass(frozen=True)
class LoginResult:
    actor: Actor
    cookie: str


def login(engine: Engine, *, username: str, password: str) -> LoginResult:
    """Check the credentials; on success open a session and return its cookie value.

    Two failed logins racing to create the same counter row are retried once, so the
    loser still gets the ordinary answer and not a database error.
    """
    try:
        return _login(engine, username, password)
    except IntegrityError:
        return _login(engine, username, password)


def _login(engine: Engine, username: str, password: str) -> LoginResult:
    username = username.strip()
    # The counter is keyed by what was typed, cut to the column width: an overlong name
    # is still counted (and can never be a real account).
    key = username[:MAX_USERNAME]
    now = utcnow()
    with transaction(engine) as session:
        attempt = session.get(LoginAttempt, key)
        if attempt is not None:
            wait = (
                auth.login_delay(attempt.failures)
                - (now - _aware(attempt.last_failed_at)).total_seconds()
            )
            if wait > 0:
                raise PermissionDenied(
                    f"登录尝试过于频繁，请 {int(wait) + 1} 秒后再试", retry_after=int(wait) + 1
                )
        user = _user_by_name(session, username) if len(username) <= MAX_USERNAME else None
        ok = auth.verify_password(user.pw_hash if user else None, password)
        if ok and user is not None and user.active:
            if attempt is not None:
                session.delete(attempt)
            if auth.needs_rehash(user.pw_hash):
                user.pw_hash = auth.hash_password(password)
            _prune_sessions(session, user, now)
            assert user.id is not None
            token = auth.new_token()
            session.add(
                UserSession(
                    token_digest=auth.token_digest(token),
                    user_id=user.id,
                    created_at=now,
                    last_seen_at=now,
                )
            )
            cookie = auth.sign(token, _secret(session))
            return LoginResult(actor_of(user), cookie)
        if attempt is None:
            session.add(LoginAttempt(username=key, failures=1, last_failed_at=now))
        else:
            attempt.failures += 1
            attempt.last_failed_at = now
    # The failure count above is committed; the answer never says which part was wrong.
    raise PermissionDenied(auth.LOGIN_FAILED)


def _prune_sessions(session: Session, user: User, now: datetime) -> None:
    """Forget this user's dead sessions, so the table does not grow with every login."""
    session.execute(
        delete(UserSession).where(
            col(UserSession.user_id) == user.id,
            col(UserSession.revoked)
            | (col(UserSession.last_seen_at) < now - idle_timeout())
            | (col(UserSession.created_at) < now - SESSION_MAX_AGE),
        )
    )


def _token_of(session: Session, cookie: str | None) -> str | None:
    return auth.unsign(cookie, _secret(session)) if cookie else None


def resolve_session(engine: Engine, cookie: str | None) -> Actor | None:
    """The user behind a cookie, from the database, or None (expired, revoked, forged)."""
    if not cookie:
        return None
    now = utcnow()
    with transaction(engine) as session:
        token = _token_of(session, cookie)
        if token is None:
            return None
        found = session.exec(
            select(UserSession, User)
            .join(User, col(User.id) == UserSession.user_id)
            .where(UserSession.token_digest == auth.token_digest(token))
        ).first()
        if found is None:
            return None
        user_session, user = found
        if user_session.revoked or not user.active:
            return None
        idle = now - _aware(user_session.last_seen_at)
        if idle > idle_timeout() or now - _aware(user_session.created_at) > SESSION_MAX_AGE:
            user_session.revoked = True
            return None
        if idle > _TOUCH_EVERY:
            user_session.last_seen_at = now
        return actor_of(user)


def logout(engine: Engine, cookie: str | None) -> None:
    """End the session behind ``cookie`` (a forged or unknown one is ignored)."""
    if not cookie:
        return
    with transaction(engine) as session:
        token = _token_of(session, cookie)
        if token is not None:
            session.execute(
                update(UserSession)
                .where(col(UserSession.token_digest) == auth.token_digest(token))
                .values(revoked=True)
            )


# -- account management --------------------------------------------------------------------
def _check_username(username: str) -> str:
    username = username.strip()
    if not username:
        raise InvalidInput("用户名不能为空")
    if len(username) > MAX_USERNAME:
        raise InvalidInput(f"用户名最多 {MAX_USERNAME} 个字符")
    if any(ch.isspace() for ch in username):
        raise InvalidInput("用户名不能包含空格")
    return username


def _check_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError as exc:
        raise InvalidInput(f"角色只能是 admin、judge 或 viewer（当前 {role}）") from exc


def _judge_id(session: Session, judge: str) -> int:
    found = session.exec(select(Judge).where((Judge.name == judge) | (Judge.code == judge))).first()
    if found is None:
        raise NotFound(f"找不到评委「{judge}」，请先在评委名单中添加", judge=judge)
    assert found.id is not None
    return found.id


def create_user(
    engine: Engine,
    *,
    actor: Actor,
    username: str,
    password: str,
    role: str,
    judge: str | None = None,
    display_name: str = "",
) -> int:
    """Add an account; a judge account must name its judge record (name or code)."""
    require(actor, Action.MANAGE_USERS)
    username = _check_username(username)
    display_name = display_name.strip()
    if len(display_name) > MAX_DISPLAY_NAME:
        raise InvalidInput(f"显示名称最多 {MAX_DISPLAY_NAME} 个字符")
    role_ = _check_role(role)
    judge = (judge or "").strip() or None
    if role_ is Role.JUDGE and not judge:
        raise InvalidInput("评委账号必须关联评委（--judge 评委姓名）")
    if role_ is not Role.JUDGE and judge:
        raise InvalidInput("只有评委账号可以关联评委")
    pw_hash = auth.hash_password(password)
    with transaction(engine) as session:
        if _user_by_name(session, username) is not None:
            raise Conflict(f"用户名「{username}」已存在", username=username)
        judge_id = _judge_id(session, judge) if judge else None
        if judge_id is not None:
            holder = session.exec(select(User.username).where(User.judge_id == judge_id)).first()
            if holder is not None:
                raise Conflict(f"评委「{judge}」已有账号 {holder}", judge=judge)
        user = User(
            username=username,
            display_name=display_name or username,
            pw_hash=pw_hash,
            role=role_.value,
            judge_id=judge_id,
            created_at=utcnow(),
        )
        session.add(user)
        session.flush()
        record(
            session,
            actor,
            action="user.create",
            entity="user",
            key=username,
            new={"role": role_.value, "judge": judge, "display_name": user.display_name},
        )
        assert user.id is not None
        return user.id


def set_password(engine: Engine, *, actor: Actor, username: str, password: str) -> None:
    """An admin sets (resets) a password; every session of that account ends."""
    require(actor, Action.MANAGE_USERS)
    pw_hash = auth.hash_password(password)
    with transaction(engine) as session:
        user = _require_user(session, username)
        _replace_password(session, user, pw_hash)
        _revoke_sessions(session, user)
        record(session, actor, action="user.password", entity="user", key=user.username)


def change_own_password(
    engine: Engine, *, actor: Actor, cookie: str | None, current: str, new: str
) -> None:
    """Any user changes their own password, proving the current one first.

    Every other session of the account ends; the one making the change stays open, so
    a user who suspects a stolen session can cut it off without being thrown out.
    """
    if actor.user_id is None:
        raise PermissionDenied("命令行操作员没有账号密码，请用 users passwd 修改指定账号的密码")
    pw_hash = auth.hash_password(new)
    with transaction(engine) as session:
        user = session.get(User, actor.user_id)
        if user is None or not user.active:
            raise PermissionDenied(auth.LOGIN_FAILED)
        if not auth.verify_password(user.pw_hash, current):
            raise InvalidInput("当前密码不正确")
        token = _token_of(session, cookie)
        _replace_password(session, user, pw_hash)
        revoke = update(UserSession).where(col(UserSession.user_id) == user.id)
        if token is not None:
            revoke = revoke.where(col(UserSession.token_digest) != auth.token_digest(token))
        session.execute(revoke.values(revoked=True))
        record(session, actor, action="user.password", entity="user", key=user.username)


def _replace_password(session: Session, user: User, pw_hash: str) -> None:
    user.pw_hash = pw_hash
    user.is_demo = False  # its published password no longer works: off the login page
    # A fresh password starts with a clean slate of login attempts.
    session.execute(delete(LoginAttempt).where(col(LoginAttempt.username) == user.username))


def set_active(engine: Engine, *, actor: Actor, username: str, active: bool) -> bool:
    """Disable (or re-enable) an account; disabling ends its sessions at once.

    Returns whether anything changed (no audit row for a no-op). The last active admin
    cannot be disabled: nobody could manage accounts from the web any more.
    """
    require(actor, Action.MANAGE_USERS)
    with transaction(engine) as session:
        user = _require_user(session, username)
        if user.active == active:
            return False
        if not active and user.role == Role.ADMIN and _active_admins(session) <= 1:
            raise Conflict(
                "不能停用最后一个可用的管理员账号；请先新增或启用另一个管理员", username=username
            )
        user.active = active
        if not active:
            _revoke_sessions(session, user)
        record(
            session,
            actor,
            action="user.enable" if active else "user.disable",
            entity="user",
            key=user.username,
            old={"active": not active},
            new={"active": active},
        )
        return True


def list_users(engine: Engine, *, actor: Actor) -> pd.DataFrame:
    """Every account with its linked judge and when it was last active (admins only)."""
    require(actor, Action.MANAGE_USERS)
    last_seen = (
        select(UserSession.user_id, func.max(UserSession.last_seen_at).label("last_seen"))
        .group_by(col(UserSession.user_id))
        .subquery()
    )
    stmt = (
        select_columns(
            col(User.id),
            col(User.username),
            col(User.display_name),
            col(User.role),
            col(Judge.name),
            col(User.active),
            col(User.is_demo),
            col(User.created_at),
            last_seen.c.last_seen,
        )
        .join(Judge, col(Judge.id) == User.judge_id, isouter=True)
        .join(last_seen, last_seen.c.user_id == User.id, isouter=True)
        .order_by(User.username)
    )
    with transaction(engine) as session:
        rows = session.execute(stmt).all()
    frame = pd.DataFrame([(*r[:4], Role(r[3]).label, *r[4:]) for r in rows], columns=USER_COLUMNS)
    for column in ("created_at", "last_seen"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame.astype({"active": bool, "is_demo": bool})


def usernames(engine: Engine, *, actor: Actor) -> list[str]:
    """All user names, for pickers (admins only)."""
    require(actor, Action.MANAGE_USERS)
    with transaction(engine) as session:
        return list(session.exec(select(User.username).order_by(User.username)).all())


def demo_accounts(engine: Engine) -> list[tuple[str, str, str]]:
    """(username, role, password) of demo accounts still present, active and unchanged.

    Needs no login: the login page lists them so a newcomer can try every role, and
    warns that they must be removed before real use. Changing the password clears
    ``is_demo``; disabling clears ``active``; either takes the account off the list.
    """
    published = {name: password for name, password, *_ in DEMO_ACCOUNTS}
    with transaction(engine) as session:
        users = session.exec(
            select(User).where(col(User.is_demo), col(User.active)).order_by(User.username)
        ).all()
        return [
            (u.username, u.role, published[u.username]) for u in users if u.username in published
        ]


def _require_user(session: Session, username: str) -> User:
    if not username.strip():
        raise InvalidInput("请先选择用户")
    user = _user_by_name(session, username.strip())
    if user is None:
        raise NotFound(f"找不到用户「{username}」", username=username)
    return user


def _revoke_sessions(session: Session, user: User) -> None:
    session.execute(
        update(UserSession).where(col(UserSession.user_id) == user.id).values(revoked=True)
    )


def _active_admins(session: Session) -> int:
    return int(
        session.execute(
            select(func.count()).where(col(User.role) == Role.ADMIN.value, col(User.active))
        ).scalar_one()
    )

"""Per-service migrations: a schema, a serving role, and alembic inside it.

Migrations run as the owner (the ``DATABASE_URL`` role). Before alembic runs,
:func:`prepare_schema` makes sure the service's schema and serving role exist
and that the role can use the schema's tables but own or create none of them.
Alembic's version table lives inside the service's schema.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from shared.db import ORG_SETTING, async_url, role_name

VERSION_TABLE = "alembic_version"


def _quote(identifier: str) -> str:
    if not identifier.replace("_", "").isalnum():
        raise ValueError(f"unexpected identifier {identifier!r}")
    return f'"{identifier}"'


def prepare_schema(
    connection: Connection, schema: str, service: str, password: str
) -> None:
    """Create the schema and the serving role, and grant the role its tables."""
    role = _quote(role_name(service))
    quoted_schema = _quote(schema)
    connection.execute(text(f"create schema if not exists {quoted_schema}"))
    _ensure_role(connection, role_name(service), password)
    for statement in (
        f"revoke all on schema {quoted_schema} from public",
        f"grant usage on schema {quoted_schema} to {role}",
        f"alter default privileges in schema {quoted_schema} "
        f"grant select, insert, update, delete on tables to {role}",
        f"alter default privileges in schema {quoted_schema} "
        f"grant usage, select on sequences to {role}",
    ):
        connection.execute(text(statement))


def _ensure_role(connection: Connection, role: str, password: str) -> None:
    # Roles belong to the whole cluster: another database may have made it.
    connection.execute(
        text(
            "do $$ begin "
            f"create role {_quote(role)} login nosuperuser nobypassrls "
            "nocreatedb nocreaterole; "
            "exception when duplicate_object then null; end $$"
        )
    )
    connection.execute(text(f"alter role {_quote(role)} login nosuperuser nobypassrls"))
    escaped = password.replace("'", "''")
    connection.execute(text(f"alter role {_quote(role)} password '{escaped}'"))


def grant_tables(connection: Connection, schema: str, service: str) -> None:
    """Grant the serving role the tables that exist now (defaults cover later ones)."""
    role = _quote(role_name(service))
    quoted_schema = _quote(schema)
    connection.execute(
        text(
            "grant select, insert, update, delete on all tables in schema "
            f"{quoted_schema} to {role}"
        )
    )
    connection.execute(
        text(
            f"grant usage, select on all sequences in schema {quoted_schema} to {role}"
        )
    )


def tenant_table_sql(qualified_table: str) -> list[str]:
    """Statements that put a tenant table under row-level security.

    The policy compares ``org_id`` with the transaction's organization; an
    unset or empty value matches no row, so a forgotten scope returns nothing.
    """
    current = f"nullif(current_setting('{ORG_SETTING}', true), '')::uuid"
    return [
        f"alter table {qualified_table} enable row level security",
        f"alter table {qualified_table} force row level security",
        f"create policy tenant_isolation on {qualified_table} "
        f"using (org_id = {current}) with check (org_id = {current})",
    ]


def alembic_config(migrations_dir: Path, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    # Attributes, not options: alembic's ini parser chokes on "%" in URLs.
    config.attributes["database_url"] = database_url
    return config


async def upgrade(
    migrations_dir: Path,
    database_url: str,
    schema: str,
    service: str,
    password: str,
) -> None:
    """Bring one service's schema to the newest revision."""
    engine = create_async_engine(async_url(database_url), poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(prepare_schema, schema, service, password)
        config = alembic_config(migrations_dir, database_url)
        config.attributes["schema"] = schema
        config.attributes["service"] = service
        await asyncio.to_thread(command.upgrade, config, "head")
        async with engine.begin() as connection:
            await connection.run_sync(grant_tables, schema, service)
    finally:
        await engine.dispose()


def run_alembic_env(target_metadata: MetaData) -> None:
    """The body of every service's ``migrations/env.py``."""
    config = context.config
    schema = config.attributes["schema"]
    url = async_url(config.attributes["database_url"])

    def migrate(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            version_table_schema=schema,
            include_schemas=True,
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine: AsyncEngine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                await connection.run_sync(migrate)
                await connection.commit()
        finally:
            await engine.dispose()

    asyncio.run(run())


def create_system_tables(schema: str) -> None:
    """The first revision of every service: its outbox, handled events, work
    items and organization keys, as they were first declared.

    Written out rather than built from :mod:`shared.tables`, so that a later
    change to those declarations goes into a revision of its own and an old
    database and a new one end up the same.
    """
    op.create_table(
        "handled_events",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("handler", sa.Text(), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column(
            "handled_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("event_id", "handler"),
        schema=schema,
    )
    op.create_table(
        "org_keys",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("master_key_version", sa.Integer(), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("org_id"),
        schema=schema,
    )
    op.create_table(
        "outbox",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("destination", sa.Text(), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "attempts", sa.Integer(), server_default=sa.text("0"), nullable=False
        ),
        sa.PrimaryKeyConstraint("event_id", "destination"),
        schema=schema,
    )
    op.create_index(
        "outbox_unpublished",
        "outbox",
        ["created_at"],
        unique=False,
        schema=schema,
        postgresql_where=sa.text("published_at is null"),
    )
    op.create_table(
        "work_items",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=True),
        sa.Column(
            "state", sa.Text(), server_default=sa.text("'pending'"), nullable=False
        ),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "attempts", sa.Integer(), server_default=sa.text("0"), nullable=False
        ),
        sa.Column(
            "progress",
            postgresql.JSONB(),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
        schema=schema,
    )
    op.create_index(
        "work_items_due", "work_items", ["state", "due_at"], unique=False, schema=schema
    )

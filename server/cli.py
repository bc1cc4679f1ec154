"""`doorstep`: the operator's command line (migrate, create-admin, load-areas, serve, …)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import secrets
import sys

from server.core import db
from server.settings import SettingsError, describe, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="doorstep", description="Doorstep 社工站入户走访后端")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply database migrations")
    make = commands.add_parser("makemigrations", help="(developers) write a migration for model changes")
    make.add_argument("name")
    admin = commands.add_parser("create-admin", help="create an admin (password from DOORSTEP_ADMIN_PASSWORD or stdin)")
    admin.add_argument("username")
    admin.add_argument("--if-missing", action="store_true", help="do nothing if any admin exists; generate a password")
    areas = commands.add_parser("load-areas", help="load areas from CSV or XLSX: code,name,level,parent_code")
    areas.add_argument("file")
    commands.add_parser("load-builtins", help="load the built-in forms and the service catalogue")
    commands.add_parser("load-demo", help="load a demo district: accounts of each role, households, visits, photos")
    orphans = commands.add_parser("orphans", help="report stored photos that no submission refers to (deletes nothing)")
    orphans.add_argument("--hours", type=_hours, default=None,
                         help="older than this (default DOORSTEP_ORPHAN_REPORT_AFTER_HOURS)")
    commands.add_parser("check-store", help="check that every recorded photo is in the store and matches its hash; "
                                            "report stored photos without a record (deletes nothing)")
    for name, help_text in (("backup", "copy the database, then the photos it records, into a new FOLDER"),
                            ("restore", "put a backup FOLDER into an empty database and the photo store, then verify")):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("folder")
        photos = command.add_mutually_exclusive_group()
        photos.add_argument("--photos", help="folder of the photos (default FOLDER/photos; may be shared by backups)")
        photos.add_argument("--no-photos", action="store_true", help="database only (photos copied by other means)")
    verify = commands.add_parser("verify-restore", help="compare the database and photo store with a backup FOLDER")
    verify.add_argument("folder")
    serve = commands.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    commands.add_parser("settings", help="list every setting with its default and help")
    commands.add_parser("permissions", help="print the permission table (Markdown), as docs/api.md shows it")
    args = parser.parse_args(argv)

    if args.command == "settings":
        for name, default, help_text in describe():
            print(f"{name:34} {default or '(空)':28} {help_text}")
        return 0
    if args.command == "permissions":
        from server.core.permissions import as_markdown

        print(as_markdown())
        return 0
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"配置错误：{exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        return _serve(settings, args.host, args.port)
    return asyncio.run(_run(settings, args))


async def _run(settings, args) -> int:
    if args.command == "migrate":
        applied = await db.migrate(settings)
        print(f"数据库已迁移到最新版本（本次执行了 {len(applied)} 个迁移）。" if applied else "数据库已是最新版本，无需迁移。")
        return 0
    if args.command == "makemigrations":
        return await _makemigrations(settings, args.name)
    if args.command in ("backup", "restore", "verify-restore"):
        return await _backup_command(settings, args)
    # These import the models; keep `doorstep settings` free of them.
    from server.ops import accounts, areas_file, builtins, demo
    from server.ops.errors import SetupError

    await db.connect(settings)
    try:
        if args.command == "create-admin":
            return await _create_admin(accounts, args.username, args.if_missing)
        if args.command == "load-areas":
            created, kept = await areas_file.load_areas(args.file)
            print(f"区域：新增 {created} 个，已有 {kept} 个未改动。")
        elif args.command == "load-builtins":
            print(await builtins.load_builtins())
        elif args.command == "load-demo":
            print(await demo.load_demo(settings))
        elif args.command == "orphans":
            return await _report_orphans(settings, args.hours)
        elif args.command == "check-store":
            return await _check_store(settings)
        return 0
    except SetupError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    finally:
        await db.disconnect()


def _hours(text: str) -> int:
    from server.intake.photos import orphan_hours
    from server.core.problems import InvalidInput

    try:
        return orphan_hours(text)
    except InvalidInput as problem:
        raise argparse.ArgumentTypeError(problem.errors[0].detail) from None


async def _report_orphans(settings, hours: int | None) -> int:
    from server.intake.photos import orphans, photo_store

    hours = settings.orphan_report_after_hours if hours is None else hours
    found, _ = await orphans(photo_store(settings), hours)
    for item in found:
        print(f"{item['sha256']}  {item['stored_at']}  {'已登记' if item['recorded'] else '未登记'}")
    print(f"共 {len(found)} 张照片存放超过 {hours} 小时且没有任何提交引用（仅报告，未删除）。")
    return 0


async def _check_store(settings) -> int:
    from server.intake.photos import photo_store
    from server.intake.store_check import check_store

    labels = {"missing": "缺失", "corrupt": "损坏", "unrecorded": "未登记"}
    store = photo_store(settings)
    report = await check_store(store, lambda kind, sha256: print(f"{labels[kind]}  {sha256}", flush=True))
    where = (f"S3 桶 {settings.s3_bucket}" + (f" 前缀 {settings.s3_prefix}" if settings.s3_prefix else "")
             if settings.photo_store == "s3" else f"本地目录 {settings.resolved_media_dir}")
    print(f"已核对 {report.checked} 张登记的照片（{where}）：缺失 {len(report.missing)} 张，"
          f"内容与哈希不符 {len(report.corrupt)} 张；另有 {len(report.unrecorded)} 张已存放但未登记（仅报告，未删除）。")
    if not report.sound:
        print("照片存储有问题：缺失或损坏的照片需从备份恢复。", file=sys.stderr)
        return 1
    return 0


async def _backup_command(settings, args) -> int:
    import os
    from pathlib import Path

    from server.intake.photos import photo_store
    from server.ops import backup

    os.umask(0o077)  # personal data of vulnerable people: the copies are the operator's alone
    folder = Path(args.folder)
    photos = None if getattr(args, "no_photos", False) else Path(getattr(args, "photos", None) or folder / "photos")
    store = photo_store(settings)
    try:
        if args.command == "backup":
            done = await backup.back_up(settings, store, folder, photos)
            print(f"备份完成：{folder}，数据库 {done['rows']} 行，登记照片 {done['photos']} 张，"
                  f"本次复制 {done['copied']} 张（{done['bytes']} 字节）。")
            return 0
        if args.command == "restore":
            done = await backup.restore(settings, store, folder, photos)
            print(f"已恢复：数据库来自 {folder}，照片复制 {done['copied']} 张（{done['bytes']} 字节）。")
            problems = done["problems"]
        else:
            problems = await backup.verify(settings, store, folder)
    except backup.CopyFailed as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    for problem in problems:
        print(f"不一致：{problem}", file=sys.stderr)
    if problems:
        return 1
    print("核对通过：每张表的行数、登记的照片与备份一致，每张照片都在存储中且与其哈希相符。")
    return 0


async def _create_admin(accounts, username: str, if_missing: bool) -> int:
    import os

    if if_missing and await accounts.any_admin():
        print("已有管理员账号，未作改动。")
        return 0
    password = os.environ.get("DOORSTEP_ADMIN_PASSWORD")
    generated = False
    if not password and if_missing:
        password, generated = secrets.token_urlsafe(12), True
    elif not password:
        password = getpass.getpass("新管理员密码：") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    await accounts.create_admin(username, password)
    print(f"已创建管理员 {username}。")
    if generated:
        print(f"初始密码（只显示这一次，请登录后修改）：{password}")
    return 0


async def _makemigrations(settings, name: str) -> int:
    from tortoise import Tortoise
    from tortoise.migrations.autodetector import MigrationAutodetector

    config = db.tortoise_config(settings.resolved_database_url)
    await Tortoise.init(config=config)
    try:
        writers = await MigrationAutodetector(Tortoise.apps, config["apps"]).changes()
        for writer in writers:
            writer.name = f"{writer.name.split('_', 1)[0]}_{name}"
            print(f"写入 {writer.write()}")
        if not writers:
            print("模型与迁移一致，无需新迁移。")
    finally:
        await Tortoise.close_connections()
    return 0


def _serve(settings, host: str, port: int) -> int:
    import uvicorn

    from server.app import create_app
    from server.http.logs import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    print(f"Doorstep 已启动：http://{host}:{port}/")
    print(f"  接口说明：http://{host}:{port}/api/docs")
    print(f"  登录：POST http://{host}:{port}/api/v1/auth/token  {{\"username\": \"admin\", \"password\": \"…\"}}")
    # h11 reads a request's head up to this size and resets the connection past it: room enough for a URL past
    # DOORSTEP_MAX_URL_BYTES to reach the app, which answers it with a 414 a client can read.
    head_limit = max(1024 * 1024, 4 * settings.max_url_bytes)
    # No access log of uvicorn's: it prints query strings, and `?q=` may hold a whole ID number. The app logs each
    # request's method, path (no query), status and time itself (server.http.middleware). No logging set-up of
    # uvicorn's either (log_config=None): its lines go through ours, in the format chosen.
    uvicorn.run(create_app(settings), host=host, port=port, proxy_headers=False, log_level=settings.log_level.lower(),
                h11_max_incomplete_event_size=head_limit, access_log=False, log_config=None)
    return 0


def run() -> None:
    """The `doorstep` command. Once the S3 client (obstore) has run, the process leaves without Python's
    finalisation: the client's Tokio worker threads are never stopped, and one still busy (closing a pooled
    connection) while the interpreter is torn down panics and aborts the process, SIGABRT after the work was done
    (seen as `verify-restore` ending with -6 about one run in ten). Everything of ours is closed by then."""
    code = main()
    if "obstore" in sys.modules:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    run()

"""The `helping-hands` command: run, chat, train, seed and import a catalogue."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from pathlib import Path

import httpx

from assistant.catalogue import import_catalogue, seed_demo_catalogue
from assistant.channels.twilio_rest import TwilioRestClient
from assistant.config import Settings, load_settings
from assistant.errors import CatalogueImportError
from assistant.events import Broadcaster
from assistant.notify import Notifier
from assistant.residents import add_resident, find_by_phone, normalise_phone
from assistant.store import open_database
from assistant.volunteers import (
    AccountError,
    add_volunteer,
    all_volunteers,
    remove_volunteer,
    seed_demo_volunteers,
    set_on_duty,
)

logger = logging.getLogger("assistant")

DEMO_RESIDENT = ("+447700900123", "Joan Smith", "12 Station Road, Anytown AB1 2CD")


def configure_logging(debug: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def seed(settings: Settings) -> None:
    """Create the database, apply migrations and load the demo data."""
    db = open_database(settings.database_path)
    added = seed_demo_catalogue(db)
    if added:
        logger.info("loaded %s demo products", added)
    phone, name, address = DEMO_RESIDENT
    if find_by_phone(db, phone) is None:
        add_resident(db, phone, name, address, "Ring the bell twice")
        logger.info("added the demo resident")
    made = seed_demo_volunteers(db)
    if made:
        # The passwords go to a file only the owner can read, never to a log.
        path = settings.data_dir / "demo_volunteers.txt"
        path.write_text(
            "".join(f"{user} ({role}): {password}\n" for user, role, password in made),
            encoding="utf-8",
        )
        path.chmod(0o600)
        print(
            f"Demo console accounts {', '.join(user for user, _, _ in made)} made; "
            f"their passwords are in {path}"
        )
    db.close()


def command_seed(args, settings: Settings) -> int:
    seed(settings)
    return 0


def command_train(args, settings: Settings) -> int:
    from assistant.training import ensure_model

    ensure_model(settings.model_path, force=args.force)
    return 0


def command_run(args, settings: Settings) -> int:
    from assistant.supervisor import Supervisor, child_processes
    from assistant.training import ensure_model

    seed(settings)
    ensure_model(settings.model_path)
    logger.info(
        "starting Helping Hands on http://%s:%s (ready when /healthz says ok)",
        settings.host,
        settings.port,
    )
    return Supervisor(child_processes(settings)).run()


def command_gateway(args, settings: Settings) -> int:
    """Run the gateway alone (`run` starts it with Rasa and the actions)."""
    import uvicorn

    from assistant.app import create_app

    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        # Rasa pins websockets 10, which uvicorn's default WebSocket
        # implementation no longer supports; wsproto has no such pin.
        ws="wsproto",
        access_log=False,
        log_config=None,  # keep the logging configured here, with no addresses
        # Console pages hold live event streams open: give them a moment to
        # close, then stop, rather than waiting for every browser to go.
        timeout_graceful_shutdown=5,
    )
    return 0


def command_catalogue_import(args, settings: Settings) -> int:
    db = open_database(settings.database_path)
    try:
        added, updated = import_catalogue(db, Path(args.file).read_text("utf-8"))
    except CatalogueImportError as error:
        print(
            f"Nothing was imported: {len(error.problems)} bad row(s).", file=sys.stderr
        )
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    except (OSError, UnicodeDecodeError) as error:
        print(f"Could not read {args.file}: {error}", file=sys.stderr)
        return 1
    print(f"Imported {added} new and {updated} updated product(s).")
    return 0


def rasa_is_up(settings: Settings) -> bool:
    try:
        response = httpx.get(
            settings.rasa_url + "/status",
            params={"token": settings.rasa_token()},
            timeout=2.0,
        )
        actions = httpx.get(settings.actions_url + "/health", timeout=2.0)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and actions.status_code == 200


def command_chat(args, settings: Settings) -> int:
    """Talk to the assistant in the terminal, as a resident would by SMS."""
    from assistant.supervisor import Supervisor, child_processes
    from assistant.training import ensure_model

    phone = normalise_phone(args.as_phone or DEMO_RESIDENT[0])
    if phone is None:
        print("That phone number doesn't look right. Try +447700900123.")
        return 2
    seed(settings)
    started = []
    if not rasa_is_up(settings):
        ensure_model(settings.model_path)
        print("Starting the assistant (about half a minute)...")
        supervisor = Supervisor(child_processes(settings, with_gateway=False))
        for child in supervisor.children:
            child.start()
        started = supervisor.children
        deadline = time.monotonic() + 180
        while not rasa_is_up(settings):
            if time.monotonic() > deadline:
                print("The assistant did not start; see the messages above.")
                return 1
            time.sleep(1)
    try:
        asyncio.run(chat_loop(settings, phone))
    finally:
        for child in reversed(started):
            child.stop()
    return 0


async def chat_loop(settings: Settings, phone: str) -> None:
    from assistant import messages
    from assistant.conversation import ConversationRouter
    from assistant.rasa_client import RasaClient
    from assistant.residents import resident_for_phone

    db = open_database(settings.database_path)
    rasa = RasaClient(
        settings.rasa_url, settings.rasa_token(), settings.rasa_timeout_seconds
    )
    twilio = (
        TwilioRestClient(
            settings.twilio_account_sid or "",
            settings.twilio_auth_token or "",
            settings.twilio_number or "",
        )
        if settings.twilio_ready
        else None
    )
    notifier = Notifier(db, Broadcaster(), twilio, settings.console_url)
    router = ConversationRouter(db, rasa, settings, notifier)
    resident = resident_for_phone(db, phone)
    seen = messages.latest_message_id(db, resident.id)
    watcher = asyncio.create_task(show_volunteer_replies(db, resident.id, seen))
    print(f"Chatting as {phone}. Type your message; an empty line or Ctrl-D ends.")
    try:
        while True:
            try:
                text = await asyncio.to_thread(input, "you> ")
            except EOFError:
                break
            if not text.strip():
                break
            resident = resident_for_phone(db, phone)
            inbound_id, _ = messages.record_inbound(
                db, "terminal", None, resident.id, text
            )
            for reply in await router.handle(resident, text, "terminal", inbound_id):
                print("assistant> " + reply.replace("\n", "\n           "))
    finally:
        watcher.cancel()
        await rasa.close()
        db.close()


async def show_volunteer_replies(db, resident_id: str, seen: int) -> None:
    """Print what a volunteer writes to this resident, as it arrives."""
    from assistant import messages

    while True:
        await asyncio.sleep(1)
        for message in messages.volunteer_messages_after(db, resident_id, seen):
            seen = message["id"]
            print(f"\nvolunteer {message['volunteer']}> {message['body']}")


def command_sms(args, settings: Settings) -> int:
    """Send the running gateway an SMS webhook signed exactly as Twilio signs it."""
    import secrets
    import xml.etree.ElementTree as ElementTree

    from twilio.request_validator import RequestValidator

    if not settings.twilio_auth_token:
        print(
            "TWILIO_AUTH_TOKEN is not set, so the gateway refuses SMS webhooks. "
            "For a local trial put a made-up token in .env, for example\n"
            "  TWILIO_AUTH_TOKEN=local-trial-token\nand start `make run` again."
        )
        return 2
    phone = normalise_phone(args.from_phone or DEMO_RESIDENT[0])
    if phone is None:
        print("That phone number doesn't look right. Try +447700900123.")
        return 2
    params = {
        "MessageSid": "SM" + secrets.token_hex(16),
        "AccountSid": settings.twilio_account_sid or "AC" + "0" * 32,
        "From": phone,
        "To": settings.twilio_number or "+441234567890",
        "Body": " ".join(args.text),
        "NumMedia": "0",
    }
    signature = RequestValidator(settings.twilio_auth_token).compute_signature(
        settings.public_url + "/twilio/sms", params
    )
    try:
        response = httpx.post(
            f"http://{settings.host}:{settings.port}/twilio/sms",
            data=params,
            headers={"X-Twilio-Signature": signature},
            timeout=30,
        )
    except httpx.HTTPError:
        print("The gateway is not answering. Is `make run` running?")
        return 1
    if response.status_code != 200:
        print(f"The gateway answered {response.status_code}: {response.text}")
        return 1
    for message in ElementTree.fromstring(response.text).iter("Message"):
        print(message.text or "")
    return 0


def command_volunteer(args, settings: Settings) -> int:
    """Add, list, remove volunteers, and set who is on duty."""
    db = open_database(settings.database_path)
    try:
        if args.volunteer_command == "list":
            for volunteer in all_volunteers(db):
                duty = "on duty" if volunteer.on_duty else "off duty"
                print(
                    f"{volunteer.username}\t{volunteer.display_name}\t"
                    f"{volunteer.role}\t{duty}"
                )
            return 0
        if args.volunteer_command == "add":
            password = read_password()
            phone = normalise_phone(args.phone) if args.phone else None
            role = "coordinator" if args.coordinator else "volunteer"
            add_volunteer(db, args.username, args.name, password, role, phone)
            print(f"Added {args.username} ({role}).")
            return 0
        found = [v for v in all_volunteers(db) if v.username == args.username.lower()]
        if not found:
            print(f"There is no volunteer called {args.username}.", file=sys.stderr)
            return 1
        if args.volunteer_command == "remove":
            remove_volunteer(db, found[0].id)
            print(f"Removed {args.username}.")
        else:
            set_on_duty(db, found[0].id, args.state == "on")
            print(f"{args.username} is {args.state} duty.")
        return 0
    except AccountError as error:
        print(f"Not done: {error.args[0]}.", file=sys.stderr)
        return 1
    finally:
        db.close()


def command_resident(args, settings: Settings) -> int:
    """Export or erase everything held about a resident, found by phone number."""
    import json

    from assistant.privacy import erase_resident, export_resident

    phone = normalise_phone(args.phone)
    db = open_database(settings.database_path)
    try:
        resident = find_by_phone(db, phone) if phone else None
        if resident is None:
            print(f"No resident has the number {args.phone}.", file=sys.stderr)
            return 1
        tracker = settings.tracker_database_path
        if args.resident_command == "export":
            print(
                json.dumps(
                    export_resident(db, tracker, resident.id), indent=2, default=str
                )
            )
            return 0
        if not args.yes:
            print("Erasing cannot be undone: add --yes to erase.", file=sys.stderr)
            return 2
        erase_resident(db, tracker, resident.id, settings.data_dir)
        print("Erased.")
        return 0
    finally:
        db.close()


def command_retention(args, settings: Settings) -> int:
    """Delete transcripts and audio older than the retention period, now."""
    from assistant.privacy import apply_retention

    db = open_database(settings.database_path)
    try:
        removed = apply_retention(
            db,
            settings.tracker_database_path,
            settings.voice_dir,
            settings.retention_days,
            spool_dir=settings.data_dir,
        )
    finally:
        db.close()
    print(
        ", ".join(
            f"{count} {what.replace('_', ' ')}" for what, count in removed.items()
        )
        + " deleted."
    )
    return 0


def command_tablet(args, settings: Settings) -> int:
    """Pair a resident's tablet (print a one-time code), unpair, or list them."""
    from assistant.devices import new_pairing_code, paired_devices, unpair_resident
    from assistant.residents import masked

    db = open_database(settings.database_path)
    try:
        if args.tablet_command == "list":
            for device, resident in paired_devices(db):
                print(
                    f"{device.id}\t{masked(resident['phone'])}\t"
                    f"{device.label or '-'}\tpaired {device.paired_at:%Y-%m-%d}"
                )
            return 0
        phone = normalise_phone(args.phone)
        resident = find_by_phone(db, phone) if phone else None
        if resident is None:
            print(f"No resident has the number {args.phone}.", file=sys.stderr)
            return 1
        if args.tablet_command == "unpair":
            count = unpair_resident(db, resident.id)
            print(f"Unpaired {count} tablet(s); any unused code is cancelled.")
            return 0
        code = new_pairing_code(db, resident.id, label=args.label)
        print(
            f"Pairing code {code.spaced}: type it into the tablet at "
            f"{settings.public_url}/ within 15 minutes. It works once."
        )
        return 0
    finally:
        db.close()


def read_password() -> str:
    """A new password: asked for twice at a terminal, else one line of stdin."""
    import getpass

    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise AccountError("the two passwords were different")
    return first


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="helping-hands", description="Helping Hands shopping assistant."
    )
    parser.add_argument("--debug", action="store_true", help="log at DEBUG level")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="start Rasa, the actions and the gateway")
    run.set_defaults(handler=command_run)

    gateway = commands.add_parser(
        "gateway", help="run only the gateway (run starts all three processes)"
    )
    gateway.set_defaults(handler=command_gateway)

    chat = commands.add_parser("chat", help="talk to the assistant in the terminal")
    chat.add_argument(
        "--as",
        dest="as_phone",
        metavar="PHONE",
        help="the resident's phone number (default: the demo resident)",
    )
    chat.set_defaults(handler=command_chat)

    sms = commands.add_parser(
        "sms", help="send the running gateway a signed SMS webhook, as Twilio would"
    )
    sms.add_argument(
        "--from",
        dest="from_phone",
        metavar="PHONE",
        help="the resident's phone number (default: the demo resident)",
    )
    sms.add_argument("text", nargs="+", help="the message")
    sms.set_defaults(handler=command_sms)

    train = commands.add_parser("train", help="train the Rasa model if data changed")
    train.add_argument("--force", action="store_true", help="train even if current")
    train.set_defaults(handler=command_train)

    volunteer = commands.add_parser(
        "volunteer", help="add, list and remove volunteers; set who is on duty"
    )
    volunteer_commands = volunteer.add_subparsers(
        dest="volunteer_command", required=True
    )
    volunteer_commands.add_parser("list", help="list the volunteers").set_defaults(
        handler=command_volunteer
    )
    adder = volunteer_commands.add_parser(
        "add", help="add a volunteer; the password is asked for (or read from stdin)"
    )
    adder.add_argument("username")
    adder.add_argument("--name", required=True, help="the name residents see")
    adder.add_argument("--phone", help="a mobile number for duty alerts")
    adder.add_argument(
        "--coordinator", action="store_true", help="may manage volunteers"
    )
    adder.set_defaults(handler=command_volunteer)
    remover = volunteer_commands.add_parser("remove", help="close an account")
    remover.add_argument("username")
    remover.set_defaults(handler=command_volunteer)
    duty = volunteer_commands.add_parser("duty", help="put a volunteer on or off duty")
    duty.add_argument("username")
    duty.add_argument("state", choices=["on", "off"])
    duty.set_defaults(handler=command_volunteer)

    resident = commands.add_parser(
        "resident", help="export or erase a resident's data, by phone number"
    )
    resident_commands = resident.add_subparsers(dest="resident_command", required=True)
    exporter = resident_commands.add_parser("export", help="print everything as JSON")
    exporter.add_argument("phone")
    exporter.set_defaults(handler=command_resident)
    eraser = resident_commands.add_parser("erase", help="erase the personal data")
    eraser.add_argument("phone")
    eraser.add_argument("--yes", action="store_true", help="really erase")
    eraser.set_defaults(handler=command_resident)

    tablet = commands.add_parser(
        "tablet", help="pair a resident's tablet with a one-time code, or unpair"
    )
    tablet_commands = tablet.add_subparsers(dest="tablet_command", required=True)
    pairer = tablet_commands.add_parser(
        "pair", help="print a one-time code that pairs a tablet to the resident"
    )
    pairer.add_argument("phone", help="the resident's phone number")
    pairer.add_argument("--label", help="a name for the tablet, e.g. 'kitchen'")
    pairer.set_defaults(handler=command_tablet)
    unpairer = tablet_commands.add_parser(
        "unpair", help="unpair every tablet of the resident (a lost tablet)"
    )
    unpairer.add_argument("phone", help="the resident's phone number")
    unpairer.set_defaults(handler=command_tablet)
    tablet_commands.add_parser("list", help="list the paired tablets").set_defaults(
        handler=command_tablet
    )

    retention = commands.add_parser(
        "retention", help="delete transcripts older than HH_RETENTION_DAYS now"
    )
    retention.set_defaults(handler=command_retention)

    seed_parser = commands.add_parser("seed", help="create the database and demo data")
    seed_parser.set_defaults(handler=command_seed)

    catalogue = commands.add_parser("catalogue", help="manage the catalogue")
    catalogue_commands = catalogue.add_subparsers(
        dest="catalogue_command", required=True
    )
    importer = catalogue_commands.add_parser(
        "import", help="add or update products from a CSV file, all or nothing"
    )
    importer.add_argument(
        "file", help="CSV with sku,aisle,name,size,price_pence,aliases"
    )
    importer.set_defaults(handler=command_catalogue_import)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.debug)
    return args.handler(args, load_settings())


if __name__ == "__main__":
    sys.exit(main())

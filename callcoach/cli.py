"""The `callcoach` command."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import TYPE_CHECKING

from callcoach.errors import CallCoachError

if TYPE_CHECKING:
    from callcoach.settings import Settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="callcoach", description="On-device live call coach. Without a command: the widget on "
        "the devices chosen in its settings.")
    sub = parser.add_subparsers(dest="command")

    demo = sub.add_parser("demo", help="the widget playing the bundled demo call, live, at real time")
    demo.add_argument("--call", help=argparse.SUPPRESS)  # another stereo recording (development)
    demo.set_defaults(func=_demo)
    _add_analyze(sub)

    explain = sub.add_parser("explain", help="how the coach reads one line (for tuning the playbook)")
    explain.add_argument("--role", choices=("customer", "agent"), required=True)
    explain.add_argument("text")
    explain.add_argument("--playbook", help="playbook TOML (default: the built-in one)")
    explain.set_defaults(func=_explain)

    doctor = sub.add_parser("doctor", help="check this desktop: audio, devices, model, storage, settings (for IT)")
    doctor.add_argument("--json", action="store_true", help="the report as JSON")
    doctor.add_argument("--tone", action="store_true", help="also play a short tone on the call's output and check "
                        "it is heard on the call channel and not by the microphone")
    doctor.set_defaults(func=_doctor)

    devices = sub.add_parser("devices", help="what this desktop can hear: microphones and outputs")
    devices.add_argument("--json", action="store_true", help="one JSON object: inputs and outputs")
    devices.set_defaults(func=_devices)
    _add_listen(sub)

    _add_team_store(sub)
    review = sub.add_parser("review", help="the QA review window over the stored sessions")
    review.add_argument("--store", metavar="PATH", help="session store file (default: sessions.db in the "
                        "data folder; CALLCOACH_DATA_DIR moves it)")
    review.add_argument("--central", action="store_true", help="open on Team: the team store's sessions you may "
                        "review (central_store in the machine policy, your central_login)")
    review.set_defaults(func=_review)

    report = sub.add_parser("report", help="a self-contained HTML report of one session, for QA")
    report.add_argument("session", help="a session JSON file, or the id of a stored session")
    report.add_argument("--out", required=True, metavar="REPORT.html", help="where to write the report")
    report.set_defaults(func=_report)
    _add_team_report(sub)
    _add_board(sub)
    return parser


def _add_analyze(sub) -> None:
    analyze = sub.add_parser("analyze", help="analyze a recorded call through the live engine")
    analyze.add_argument("call", nargs="?", help="stereo recording (left agent, right customer), or a folder "
                         "of them")
    analyze.add_argument("--agent", help="agent channel as its own file (with --customer)")
    analyze.add_argument("--customer", help="customer channel as its own file (with --agent)")
    analyze.add_argument("--agent-channel", choices=("left", "right"), default="left")
    analyze.add_argument("--realtime", action="store_true", help="pace the audio like a live call")
    analyze.add_argument("--json", metavar="OUT.json", help="where to write the session (for a folder: a folder "
                         "for one JSON file per recording)")
    analyze.add_argument("--model", help="faster-whisper model name or folder (default: bundled tiny.en)")
    analyze.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="where the model runs")
    analyze.add_argument("--playbook", help="playbook TOML (default: the built-in one)")
    analyze.add_argument("--no-store", action="store_true", help="do not keep the session for QA review")
    analyze.add_argument("--agent-name", metavar="NAME", help="whose calls these are: stored under NAME, coached "
                         "from NAME's usual pace over their stored calls (default: no agent)")
    analyze.set_defaults(func=_analyze)


def _add_team_store(sub) -> None:
    central = sub.add_parser("central", help="set up the team store (for IT, with an administrator's connection)")
    steps = central.add_subparsers(dest="step", required=True)
    init = steps.add_parser("init", help="create or upgrade the team store's schema and roles (safe to run again)")
    init.add_argument("--dsn", required=True, help="PostgreSQL connection string of an administrator")
    init.set_defaults(func=_central_init)
    person = steps.add_parser("person", help="let a person log in: whose calls are theirs, which team they lead")
    person.add_argument("login", help="their PostgreSQL login (their certificate's CN)")
    person.add_argument("--dsn", required=True, help="PostgreSQL connection string of an administrator")
    person.add_argument("--agent-name", help="the name their calls are stored under, if they take calls")
    person.add_argument("--team", help="their team")
    person.add_argument("--lead", action="store_true", help="QA lead or supervisor: sees and reviews the team's calls")
    person.set_defaults(func=_central_person)

    sync = sub.add_parser("sync", help="upload every finished session not yet in the team store")
    sync.add_argument("--json", action="store_true", help="print the counts as one JSON object")
    sync.set_defaults(func=_sync)


def _central_init(args: argparse.Namespace) -> int:
    from callcoach.central.admin import init

    result = init(args.dsn)
    print(f"team store schema version {result.version}"
          + (" (already up to date)" if result.version_before == result.version
             else f" (was {result.version_before or 'not set up'})"))
    return 0


def _central_person(args: argparse.Namespace) -> int:
    from callcoach.central.admin import add_person

    add_person(args.dsn, args.login, agent_name=args.agent_name, team=args.team, lead=args.lead)
    print(f"{args.login}: agent name {args.agent_name or '-'}, team {args.team or '-'}"
          + (", lead" if args.lead else ""))
    return 0


def _sync(args: argparse.Namespace) -> int:
    import json

    from callcoach.central.uploader import upload_pending
    from callcoach.settings import Key, Settings
    from callcoach.store import SessionStore
    from callcoach.store.paths import default_store_path

    settings = Settings()
    dsn = settings.get(Key.CENTRAL_STORE)
    if not dsn:
        raise CallCoachError(f"no team store: the machine policy ({settings.policy_path}) does not set central_store")
    with SessionStore(default_store_path(settings)) as store:
        result = upload_pending(store, dsn)
    if args.json:
        print(json.dumps(result.to_json()))
    else:
        print(f"{result.uploaded} uploaded, {result.already_there} already there, {result.pending} pending, "
              f"{result.failed} failed")
    if result.error:
        print(f"callcoach: {result.error}", file=sys.stderr)
    return 1 if result.error or result.failed else 0


def _add_listen(sub) -> None:
    listen = sub.add_parser("listen", help="a live call without the window (same pipeline as the widget)")
    listen.add_argument("--mic", metavar="NAME", help="your headset microphone (default: from Settings, else the "
                        "system's default microphone)")
    call = listen.add_mutually_exclusive_group()
    call.add_argument("--call-output", metavar="NAME", help="the customer is what plays on this output (default: "
                      "from Settings, else the default output)")
    call.add_argument("--call-input", metavar="NAME", help="the customer comes from this input (desk-phone tap, "
                      "virtual cable)")
    listen.add_argument("--seconds", type=float, metavar="S", help="stop after S seconds (default: at Ctrl+C or "
                        "SIGTERM)")
    listen.add_argument("--json", metavar="OUT.json", help="where to write the session")
    listen.add_argument("--events", action="store_true", help="print one JSON object per line as the call goes")
    listen.add_argument("--no-store", action="store_true", help="do not keep the session for QA review")
    listen.set_defaults(func=_listen)


def _widget(mode: str, call: str | None = None) -> int:
    try:
        from callcoach.gui.app import run
    except ImportError as exc:
        raise CallCoachError(f"the widget needs PySide6: pip install 'callcoach[gui]' ({exc})") from None
    return run(mode, call)


def _review(args: argparse.Namespace) -> int:
    try:
        from callcoach.gui.review.app import run
    except ImportError as exc:
        raise CallCoachError(f"the review window needs PySide6: pip install 'callcoach[gui]' ({exc})") from None
    return run(args.store, central=args.central)


def _demo(args: argparse.Namespace) -> int:
    return _widget("demo", args.call)


def _explain(args: argparse.Namespace) -> int:
    import json

    from callcoach.coach.coach import explain_line
    from callcoach.coach.playbook import load_playbook

    playbook, error = load_playbook(args.playbook)
    if error:
        print(f"callcoach: warning: {error}", file=sys.stderr)
    print(json.dumps(explain_line(args.role, args.text, playbook), ensure_ascii=False))
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from callcoach.doctor import main as doctor
    from callcoach.settings import Settings

    return doctor(Settings(), as_json=args.json, tone=args.tone)


def _devices(args: argparse.Namespace) -> int:
    import json

    from callcoach.audio.system import sound_system

    system = sound_system()
    try:
        devices = system.devices()
    finally:
        system.close()
    if args.json:
        print(json.dumps(devices.to_json(), ensure_ascii=False))
        return 0
    print(f"Sound system: {devices.backend}")
    for title, listed in (("Inputs (microphones)", devices.inputs), ("Outputs (call audio is what plays on one)",
                                                                     devices.outputs)):
        print(f"{title}:")
        for d in listed:
            print(f"  {'*' if d.default else ' '} {d.name}")
        if not listed:
            print("    none" + (f": {devices.why_no_outputs}" if listed is devices.outputs and devices.why_no_outputs
                               else ""))
    print("(* the system's default)")
    return 0


def _listen(args: argparse.Namespace) -> int:
    from callcoach.listen import ListenOptions, listen
    from callcoach.settings import Settings

    if args.seconds is not None and args.seconds <= 0:
        raise CallCoachError("--seconds must be more than 0")
    summary = listen(ListenOptions(mic=args.mic, call_output=args.call_output, call_input=args.call_input,
                                   seconds=args.seconds, out=args.json, events=args.events,
                                   store=not args.no_store), Settings())
    print(f"{len(summary['utterances'])} utterances, {summary['duration_s']:.1f} s"
          + (f" -> {args.json}" if args.json else ""), file=sys.stderr)
    return 0


def _analyze(args: argparse.Namespace) -> int:
    from callcoach.analyze import analyze_call
    from callcoach.settings import Settings

    if args.call and (args.agent or args.customer):
        raise CallCoachError("give either CALL or --agent/--customer, not both")
    if not args.call and not (args.agent and args.customer):
        raise CallCoachError("give a stereo CALL, or both --agent AGENT.wav and --customer CUSTOMER.wav")
    settings = Settings()  # once: its problems are told once, and every recording uses it
    _warn_about_settings_and_playbook(settings, args.playbook)
    if args.call and os.path.isdir(args.call):
        return _analyze_folder(args, settings)
    if not args.json:
        raise CallCoachError("give --json OUT.json: where to write the session")
    summary = analyze_call(
        call=args.call, agent=args.agent, customer=args.customer, agent_channel=args.agent_channel,
        realtime=args.realtime, out=args.json, model=args.model, device=args.device, playbook=args.playbook,
        store=not args.no_store, agent_name=_agent_name(args), settings=settings,
    )
    print(f"{len(summary['utterances'])} utterances, {summary['duration_s']:.1f} s -> {args.json}")
    return 0


def _agent_name(args: argparse.Namespace) -> str | None:
    if args.agent_name is None:
        return None
    if not args.agent_name.strip():
        raise CallCoachError("--agent-name is empty: give the agent's name or ID, or leave the option out")
    if args.no_store:
        raise CallCoachError("--agent-name stores the session under that agent: it cannot go with --no-store")
    return args.agent_name.strip()


def _warn_about_settings_and_playbook(settings: Settings, playbook: str | None) -> None:
    """A settings, policy or playbook file that could not be used: one line each, then the
    analysis runs on what did load (the built-in playbook, safe defaults)."""
    from callcoach.coach.playbook import load_playbook

    problems = list(settings.errors)
    if playbook:
        problems.append(load_playbook(playbook)[1])
    for problem in filter(None, problems):
        print(f"callcoach: warning: {problem}", file=sys.stderr)


def _analyze_folder(args: argparse.Namespace, settings: Settings) -> int:
    from callcoach.analyze_folder import analyze_folder

    def said(i: int, n: int, r) -> None:
        if r.error:
            print(f"[{i}/{n}] {r.path.name}: error: {r.error}", file=sys.stderr)
        else:
            s = r.summary
            print(f"[{i}/{n}] {r.path.name}: {len(s['utterances'])} utterances, {len(s['prompts'])} prompts, "
                  f"{s['duration_s']:.1f} s" + (f" -> {r.out}" if r.out else ""))

    results = analyze_folder(
        args.call, out_dir=args.json, on_result=said, agent_channel=args.agent_channel, realtime=args.realtime,
        model=args.model, device=args.device, playbook=args.playbook, store=not args.no_store,
        agent_name=_agent_name(args), settings=settings)
    failed = sum(r.error is not None for r in results)
    if failed:
        print(f"callcoach: {failed} of {len(results)} recordings could not be analyzed", file=sys.stderr)
        return 1
    return 0


def _report(args: argparse.Namespace) -> int:
    from callcoach.report import load_session, write_report
    from callcoach.settings import Settings

    print(f"report -> {write_report(load_session(args.session, Settings()), args.out)}")
    return 0


def _add_team_report(sub) -> None:
    team = sub.add_parser("team-report", help="an HTML team report over the stored calls, for supervisors")
    team.add_argument("--out", required=True, metavar="TEAM.html", help="where to write the report (the example "
                      "calls' reports go into TEAM-calls/ beside it)")
    team.add_argument("--agent", metavar="NAME", help="only this agent's calls (default: every agent)")
    team.add_argument("--since", metavar="DATE", help="first day, YYYY-MM-DD (default: the first call)")
    team.add_argument("--until", metavar="DATE", help="last day, YYYY-MM-DD, included (default: the last call)")
    team.add_argument("--store", metavar="PATH", help="session store file (default: sessions.db in the data folder)")
    team.add_argument("--central", action="store_true", help="the team store's calls you may see, as your "
                      "central_login (central_store in the machine policy), instead of this PC's")
    team.add_argument("--team", metavar="NAME", help="with --central: only the calls of this team you lead")
    team.set_defaults(func=_team_report)


def _team_report(args: argparse.Namespace) -> int:
    from callcoach.report.team import Selection
    from callcoach.report.team_files import parse_day, store_sessions, write_team_report

    selection = Selection(agent=args.agent, team=args.team, since=parse_day(args.since, "--since"),
                          until=parse_day(args.until, "--until"))
    if selection.since and selection.until and selection.until < selection.since:
        raise CallCoachError(f"--until {args.until} is before --since {args.since}")
    if args.central and args.store:
        raise CallCoachError("--store is this PC's store: leave it out with --central")
    if args.team and not args.central:
        raise CallCoachError("--team needs --central (this PC's store keeps no teams)")
    with _report_source(args) as store:
        report = write_team_report(store_sessions(store, selection), args.out, selection, store.get)
    print(f"{report.figures.total.calls} calls, {len(report.figures.agents)} agents -> {report.page}")
    return 0


def _report_source(args: argparse.Namespace):
    """This PC's store, or the team store as the person logged in (`--central`), to close after."""
    from contextlib import closing, nullcontext

    from callcoach.settings import Key, Settings
    from callcoach.store import SessionStore, default_store_path

    settings = Settings()
    if not args.central:
        where = args.store or default_store_path(settings)
        if not os.path.exists(where):  # a report must not create an empty store
            raise CallCoachError(f"no session store at {where}")
        return closing(SessionStore(where))
    from callcoach.central.login import team_login
    from callcoach.central.reading import CentralSessions

    login = team_login(settings.get(Key.CENTRAL_STORE), settings.get(Key.CENTRAL_LOGIN))
    if login.dsn is None:
        raise CallCoachError(f"cannot read the team store: {login.problem}")
    central = CentralSessions(login.dsn)
    if args.team and args.team not in central.teams():
        raise CallCoachError(f"you do not lead a team named {args.team!r} on the team store")
    return nullcontext(central)


def _add_board(sub) -> None:
    board = sub.add_parser("board", help="the supervisor's live board: your teams' calls now, most need first "
                           "(central_store in the machine policy, your central_login)")
    board.set_defaults(func=_board)


def _board(args: argparse.Namespace) -> int:
    from callcoach.central.login import team_login
    from callcoach.settings import Key, Settings

    settings = Settings()
    login = team_login(settings.get(Key.CENTRAL_STORE), settings.get(Key.CENTRAL_LOGIN))
    if login.dsn is None:
        raise CallCoachError(f"cannot open the board: {login.problem}")
    try:
        from callcoach.gui.board.app import run
    except ImportError as exc:
        raise CallCoachError(f"the board needs PySide6: pip install 'callcoach[gui]' ({exc})") from None
    return run(login.dsn, login.user, settings)


def main(argv: list[str] | None = None) -> int:
    # Models are local files (bundled or named by IT); the hub library must never look online.
    os.environ["HF_HUB_OFFLINE"] = "1"
    from callcoach import logs

    logs.setup()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if not getattr(args, "func", None):
            return _widget("live")
        return args.func(args)
    except CallCoachError as exc:
        logging.getLogger(logs.EVENTS).error("%s failed: %s", args.command or "widget", exc)
        print(f"callcoach: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("callcoach: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

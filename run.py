"""Serve Wallchart on SQLite with the reminder scheduler in this one process.

python run.py [--host H] [--port P] [--demo]
"""

import argparse

from flask_migrate import upgrade

from tracker import create_app
from tracker.clock import utcnow
from tracker.demo.seed import DemoAlreadyLoaded, load_demo
from tracker.extensions import db


def main() -> None:
    parser = argparse.ArgumentParser(description="Run Wallchart.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--demo", action="store_true", help="load the Para Games demo into an empty database")
    args = parser.parse_args()

    app = create_app()
    with app.app_context():
        upgrade()  # creates instance/tracker.db on first start
        if args.demo:
            load_demo_once()
    if app.config["SCHEDULER"] == "on":
        from tracker.jobs.scheduler import start_in_process

        start_in_process(app)  # one process, reloader off: exactly one scheduler
    print(f"Wallchart: http://{args.host}:{args.port}/")
    app.run(host=args.host, port=args.port, use_reloader=False, threaded=True)


def load_demo_once() -> None:
    try:
        accounts = load_demo(now=utcnow())
    except DemoAlreadyLoaded:
        print("Demo already loaded; demo sign-ins are listed in the README.")
        return
    db.session.commit()
    print("Demo loaded. Sign in with:")
    for username, password, role in accounts:
        print(f"  {role:<10} {username} / {password}")


if __name__ == "__main__":
    main()

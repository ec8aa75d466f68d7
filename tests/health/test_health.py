from datetime import timedelta

from tests.factories import NOW


def test_healthz_reports_database_and_no_scheduler_yet(client, world):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "scheduler_heartbeat_age_seconds": None}


def test_healthz_reports_the_scheduler_heartbeat_age(app, client, world, time_machine):
    from tracker.jobs.scheduler import acquire_lease

    time_machine.move_to(NOW, tick=False)
    with app.app_context():
        assert acquire_lease("test-holder", NOW)
    time_machine.move_to(NOW + timedelta(seconds=42), tick=False)
    assert client.get("/healthz").json["scheduler_heartbeat_age_seconds"] == 42


def test_healthz_answers_503_when_the_database_is_gone(tmp_path):
    from tracker import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "postgresql://nobody@127.0.0.1:1/none"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["database"] == "unreachable"


def test_pages_answer_503_when_the_database_is_gone():
    from tracker import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "postgresql://nobody@127.0.0.1:1/none"})
    response = app.test_client().get("/login")
    assert response.status_code == 503


def test_api_answers_json_503_when_the_database_is_gone():
    from tracker import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "postgresql://nobody@127.0.0.1:1/none"})
    response = app.test_client().get("/api/v1/event", headers={"Authorization": "Bearer wct_x"})
    assert response.status_code == 503 and response.json["error"]["code"] == "unavailable"

"""The web app factory, the instance folder and the home page."""

import stat

import pytest

from assessment.web import create_app


@pytest.fixture
def app(tmp_path):
    return create_app({"TESTING": True}, instance_path=tmp_path / "instance")


def test_home_page_lists_every_dimension(app, rubric):
    response = app.test_client().get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for dimension in rubric.dimensions:
        assert dimension.title in page
    assert "48 questions" in page


def test_first_run_creates_database_and_secret_key_in_the_instance(app, tmp_path):
    instance = tmp_path / "instance"
    assert (instance / "sovready.db").exists()
    key = instance / "secret_key"
    assert len(key.read_text()) == 64
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert app.config["SECRET_KEY"] == key.read_text()


def test_restart_keeps_the_secret_key_and_registers_the_rubric_once(app, tmp_path):
    again = create_app({"TESTING": True}, instance_path=tmp_path / "instance")
    assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]
    with again.app_context():
        from assessment.web import get_db
        assert get_db().table("rubrics").count == 1


def test_health_and_unknown_pages(app):
    client = app.test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/nothing-here").status_code == 404

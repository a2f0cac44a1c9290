"""POST /api/v1/usage-samples/: JSON, CSV and JSON lines bodies; partial errors with their
index; idempotency; too large or unreadable bodies store nothing."""

import json

import pytest

from hostmeter.metering.models import UsageSample, UsageUpdate

URL = "/api/v1/usage-samples/"


def sample(org="shop.example", resource="disk_space", at="2026-03-01T02:00:00+00:00", value="1.5"):
    return {"organization": org, "resource": resource, "measured_at": at, "value": value}


def post(client, body: bytes | str, content_type: str):
    return client.generic("POST", URL, body, content_type=content_type)


@pytest.fixture
def collector(make_client):
    return make_client("operations", scope="ingest")


def test_json_rows_stored_bad_ones_reported_by_index(collector, api_world):
    body = [
        sample(value=10),  # a JSON number is fine
        sample(org="nobody.example"),
        sample(resource="databases"),  # shop.example has no db service
        "not an object",
        sample(at="2026-03-01T03:00:00+00:00", value="0"),
        sample(value="-1"),
        sample(at="yesterday"),
        {"organization": "shop.example", "value": "1"},
    ]
    response = collector.post(URL, body, format="json")
    assert response.status_code == 200, response.data
    assert response.data["received"] == 8
    assert response.data["stored"] == 2
    assert response.data["duplicates"] == 0
    errors = {e["index"]: e["reason"] for e in response.data["errors"]}
    assert sorted(errors) == [1, 2, 3, 5, 6, 7]
    assert "no organization with the domain “nobody.example”" in errors[1]
    assert "does not have the service" in errors[2]
    assert errors[3] == "is not a JSON object"
    assert "negative" in errors[5]
    assert "ISO 8601" in errors[6]
    assert "missing resource, measured_at" in errors[7]
    assert all(e["line"] is None for e in response.data["errors"])
    assert UsageSample.objects.filter(source="api").count() == 2


def test_the_same_body_twice_stores_nothing_new(collector, api_world):
    body = [sample(at=f"2026-03-01T0{h}:00:00Z") for h in range(5)]
    first = collector.post(URL, body, format="json").data
    again = collector.post(URL, body, format="json").data
    assert (first["stored"], first["duplicates"]) == (5, 0)
    assert (again["received"], again["stored"], again["duplicates"]) == (5, 0, 5)
    # Measured before the latest usage update (an hour ago): the next one counts them late.
    assert (first["late"], again["late"]) == (5, 0)
    assert UsageSample.objects.filter(source="api").count() == 5


def test_csv_body_with_errors_by_index_and_line(collector, api_world):
    body = (
        "\ufefforganization,resource,measured_at,value,source\r\n"
        "shop.example,disk_space,2026-03-01T02:00:00Z,12.5,du\r\n"
        "\r\n"
        "shop.example,disk_space,2026-03-01T02:00:00Z,1.2345,du\r\n"
        "shop.example,too,many,fields,here,x\r\n"
        "blog.example,disk_space,2026-03-01T02:00:00Z,3,du\r\n"
    )
    response = post(collector, body.encode(), "text/csv; charset=utf-8")
    assert response.status_code == 200, response.data
    assert (response.data["received"], response.data["stored"]) == (4, 2)
    errors = [(e["index"], e["line"]) for e in response.data["errors"]]
    assert errors == [(1, 4), (2, 5)]
    assert "three decimal places" in response.data["errors"][0]["reason"]
    assert set(UsageSample.objects.values_list("source", flat=True)) >= {"du"}


def test_json_lines_body(collector, api_world):
    lines = [json.dumps(sample(at=f"2026-03-01T0{h}:00:00Z")) for h in range(3)] + ["{oops"]
    response = post(collector, "\n".join(lines) + "\n", "application/x-ndjson")
    assert response.status_code == 200, response.data
    assert (response.data["received"], response.data["stored"]) == (4, 3)
    assert response.data["errors"][0]["index"] == 3
    assert response.data["errors"][0]["line"] == 4


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        ('{"organization": "shop.example"}', "application/json", "JSON array"),
        ("[" + json.dumps(sample()) + ",", "application/json", "not valid JSON"),
        ("[" + json.dumps(sample()) + "] []", "application/json", "extra data"),
        ("organization,value\nshop.example,1\n", "text/csv", "has no “resource”"),
        ("   ", "text/csv", "empty"),
        ("[" + json.dumps(sample()) + "]", "application/x-ndjson", "one JSON array"),
        (b"\xff\xfe[]", "application/json", "not UTF-8"),
    ],
    ids=["not-a-list", "truncated", "trailing", "csv-header", "csv-empty", "jsonl-array", "bytes"],
)
def test_unreadable_body_is_400_and_stores_nothing(
    collector, api_world, body, content_type, reason
):
    response = post(collector, body if isinstance(body, bytes) else body.encode(), content_type)
    assert response.status_code == 400
    assert reason in response.data["detail"]
    assert "Nothing was stored" in response.data["detail"]
    assert not UsageSample.objects.filter(source="api").exists()


def test_too_many_rows_is_413_and_stores_nothing(collector, api_world, settings):
    settings.HOSTMETER_API = {**settings.HOSTMETER_API, "INGEST_MAX_ROWS": 3}
    body = [sample(at=f"2026-03-01T0{h}:00:00Z") for h in range(4)]
    response = collector.post(URL, body, format="json")
    assert response.status_code == 413
    assert "more than 3 samples" in response.data["detail"]
    csv = "organization,resource,measured_at,value\n" + "".join(
        f"shop.example,disk_space,2026-03-01T0{h}:00:00Z,1\n" for h in range(4)
    )
    assert post(collector, csv.encode(), "text/csv").status_code == 413
    assert not UsageSample.objects.filter(source="api").exists()
    # the limit itself is fine
    assert collector.post(URL, body[:3], format="json").data["stored"] == 3


def test_too_many_bytes_is_413_before_reading(collector, api_world, settings):
    settings.HOSTMETER_API = {**settings.HOSTMETER_API, "INGEST_MAX_BYTES": 100}
    response = collector.post(URL, [sample(), sample(value="2")], format="json")
    assert response.status_code == 413
    assert "larger than 100 bytes" in response.data["detail"]
    assert not UsageSample.objects.filter(source="api").exists()


def test_unsupported_media_type_and_empty_body(collector, api_world):
    assert post(collector, b"a=1", "application/x-www-form-urlencoded").status_code == 415
    assert post(collector, b"", "application/json").status_code == 411


def test_empty_list_is_fine(collector, api_world):
    response = collector.post(URL, [], format="json")
    assert response.status_code == 200
    late_before = response.data.pop("late_before")
    assert response.data == {
        "received": 0,
        "stored": 0,
        "duplicates": 0,
        "late": 0,
        "errors": [],
    }
    assert late_before == UsageUpdate.objects.latest().cutoff.isoformat().replace("+00:00", "Z")


def test_nul_characters_are_bad_rows(collector, api_world):
    body = [sample(org="shop\x00.example"), sample()]
    response = collector.post(URL, body, format="json")
    assert response.status_code == 200
    assert response.data["stored"] == 1
    assert response.data["errors"][0]["reason"] == "organization contains a NUL character"
    csv = "organization,resource,measured_at,value\nshop\x00.example,disk_space,2026-03-01,1\n"
    assert post(collector, csv.encode(), "text/csv").data["errors"][0]["index"] == 0

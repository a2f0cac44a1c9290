"""API tokens: hashed, shown once, revocable; a login manages its own, Systems anyone's;
a token cannot create tokens."""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from hostmeter.api.models import ApiToken
from hostmeter.api.services import api_token_check, api_token_create
from hostmeter.tests.factories import UserFactory


def test_only_a_hash_is_stored(db):
    user = UserFactory(login_level="marketing")
    token, raw = api_token_create(user=user, name="billing")
    assert raw.startswith(f"hmt_{token.prefix}_")
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(ApiToken.objects.filter(pk=token.pk).values().first())


@pytest.mark.parametrize("keyword", ["Bearer", "Token", "bearer"])
def test_both_header_keywords(marketing, api_world, keyword):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {marketing.raw_token}")
    assert client.get("/api/v1/resellers/").status_code == 200


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer hmt_nope_nope", "Bearer a b", "Token hmt_", "Bearer {raw}x"],
)
def test_wrong_tokens_are_401(marketing, api_world, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header.format(raw=marketing.raw_token))
    response = client.get("/api/v1/resellers/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_and_inactive_login_are_401(marketing, api_world):
    assert marketing.delete(f"/api/v1/tokens/{marketing.token.pk}/").status_code == 204
    assert marketing.get("/api/v1/resellers/").status_code == 401
    other = UserFactory(login_level="systems")
    _, raw = api_token_create(user=other, name="x")
    other.is_active = False
    other.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/resellers/").status_code == 401


def test_last_used_is_written_at_most_once_a_minute(marketing, api_world):
    raw, pk = marketing.raw_token, marketing.token.pk
    first = api_token_check(raw)
    assert first.last_used_at is not None
    api_token_check(raw, now=first.last_used_at + timedelta(seconds=10))
    assert ApiToken.objects.get(pk=pk).last_used_at == first.last_used_at
    later = first.last_used_at + timedelta(minutes=2)
    api_token_check(raw, now=later)
    assert ApiToken.objects.get(pk=pk).last_used_at == later


def test_a_token_cannot_create_tokens(marketing, db):
    response = marketing.post("/api/v1/tokens/", {"name": "more"}, format="json")
    assert response.status_code == 403
    assert "cannot create tokens" in response.data["detail"]


def test_session_user_creates_own_token_shown_once(db):
    user = UserFactory(login_level="operations")
    client = APIClient()
    client.force_login(user)
    created = client.post(
        "/api/v1/tokens/", {"name": "collector", "scope": "ingest"}, format="json"
    )
    assert created.status_code == 201, created.data
    raw = created.data["token"]
    assert created.data["scope"] == "ingest"
    shown = client.get(created["Location"]).data
    assert "token" not in shown
    assert raw.startswith(shown["prefix"] + "_")
    refused = client.post(
        "/api/v1/tokens/", {"name": "x", "user": UserFactory().username}, format="json"
    )
    assert refused.status_code == 403


def test_systems_manages_anyones_tokens(db):
    boss = UserFactory(login_level="systems")
    worker = UserFactory(login_level="operations")
    client = APIClient()
    client.force_login(boss)
    created = client.post(
        "/api/v1/tokens/", {"name": "for-worker", "user": worker.username}, format="json"
    )
    assert created.status_code == 201, created.data
    assert created.data["user"] == worker.username
    token_id = created.data["id"]
    assert [
        t["id"] for t in client.get(f"/api/v1/tokens/?user={worker.username}").data["results"]
    ] == [token_id]
    assert client.delete(f"/api/v1/tokens/{token_id}/").status_code == 204
    assert ApiToken.objects.get(pk=token_id).revoked_at <= timezone.now()
    unknown = client.post("/api/v1/tokens/", {"name": "x", "user": "ghost"}, format="json")
    assert (unknown.status_code, list(unknown.data)) == (400, ["user"])


def test_others_tokens_are_invisible(marketing, operations, db):
    assert marketing.get(f"/api/v1/tokens/{operations.token.pk}/").status_code == 404
    assert marketing.delete(f"/api/v1/tokens/{operations.token.pk}/").status_code == 404
    listed = marketing.get("/api/v1/tokens/").data["results"]
    assert [t["id"] for t in listed] == [marketing.token.pk]

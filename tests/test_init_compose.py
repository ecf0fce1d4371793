"""The compose reader devenv init uses (devenv.scaffold.compose): the subset it needs (services,
image, environment as a map or a list, env_file, ports, build) from compose files as people
write them, without a YAML library; never an exception."""

from __future__ import annotations

import pytest

from devenv.scaffold.compose import container_port, image_service, parse_services, substitute

ANCHORS = """\
x-common: &common
  restart: unless-stopped
  environment: &env
    TZ: UTC

services:
  "db":
    <<: *common
    image: &pg postgres:16  # pinned
    environment:
      <<: *env
      POSTGRES_DB: "app"   # quoted
      POSTGRES_USER: 'app'
  cache:
    image: redis:7.2.4-alpine
    command: ["redis-server", "--appendonly", "yes"]
    ports: ["6380:6379"]
  worker:
    build:
      context: .
      dockerfile: Dockerfile
    environment: [ "A=1", "B=two words" ]
volumes:
  data:
"""


def test_anchors_quotes_comments_and_flow_lists():
    services = {s.name: s for s in parse_services(ANCHORS)}
    assert list(services) == ["db", "cache", "worker"]
    assert services["db"].image == "postgres:16"
    assert services["db"].environment == {"POSTGRES_DB": "app", "POSTGRES_USER": "app"}
    assert services["cache"].image == "redis:7.2.4-alpine"
    assert container_port(services["cache"]) == 6379
    assert services["worker"].build and services["worker"].image is None
    assert services["worker"].environment == {"A": "1", "B": "two words"}


def test_four_space_indents_tabs_and_a_document_marker():
    text = (
        "---\nservices:\n    db:\n        image: postgres:15\n"
        "        env_file:\n            - .env.db\n            - path: ./db.env\n"
        "\tmail:\n\t\timage: mailhog/mailhog\n"
    )
    services = {s.name: s for s in parse_services(text)}
    assert services["db"].env_files == [".env.db", "./db.env"]
    assert services["db"].image == "postgres:15"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "services:",
        "services: []",
        "services:\n  - a\n  - b\n",
        "{{{{",
        "\x00\x01",
        ":" * 50,
        "services:\n  db:\n    image:\n    environment:\n      - =\n      - :\n",
    ],
)
def test_nonsense_gives_no_error(text):
    parse_services(text)


@pytest.mark.parametrize(
    ("image", "service", "version"),
    [
        ("postgres", "postgres", None),
        ("postgres:latest", "postgres", None),
        ("postgres:15", "postgres", "15"),
        ("postgres:15.4-bookworm", "postgres", "15.4"),
        ("docker.io/library/postgres:14@sha256:abc", "postgres", "14"),
        ("localhost:5000/postgres:13", "postgres", "13"),
        ("bitnami/postgresql:16.2.0", "postgres", "16.2.0"),
        ("redis:7-alpine", "redis", "7"),
        ("redis:alpine", "redis", None),
        ("postgis/postgis:16-3.4", None, None),
        ("redis/redis-stack:7.2.0-v9", None, None),
        ("mailhog/mailhog", None, None),
        ("postgres:${PG:-12}", "postgres", "12"),
    ],
)
def test_image_service(image, service, version):
    assert image_service(image) == (service, version)


def test_substitute():
    assert substitute("${A:-x}/${B-y}/${C}/$D/e") == "x/y///e"
